//! The UI's words in Chinese (default) and English. One table, so a missing translation is a
//! compile error rather than a blank on screen.

use leptos::prelude::*;
use shared::account::Language;
use shared::message::Msg;

/// Display language.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    /// 中文
    Zh,
    /// English
    En,
}

const STORAGE_KEY: &str = "reformboard.lang";

impl Lang {
    /// The language saved on this device, Chinese if none.
    pub fn load() -> Lang {
        let saved = web_sys::window()
            .and_then(|w| w.local_storage().ok().flatten())
            .and_then(|s| s.get_item(STORAGE_KEY).ok().flatten());
        if saved.as_deref() == Some("en") {
            Lang::En
        } else {
            Lang::Zh
        }
    }

    /// `message` in this language: what the server or the shared rules said (a refusal, a
    /// notice), written in both.
    pub fn of(self, message: &Msg) -> &str {
        message.get(self.into())
    }

    /// What follows a label: the full-width colon in Chinese, a colon and a space in English.
    pub fn colon(self) -> &'static str {
        if self == Lang::En { ": " } else { "：" }
    }

    /// Between two clauses: the full-width comma in Chinese, a comma and a space in English.
    pub fn comma(self) -> &'static str {
        if self == Lang::En { ", " } else { "，" }
    }

    /// Between the names of a list: 、 in Chinese, a comma in English.
    pub fn list_separator(self) -> &'static str {
        if self == Lang::En { ", " } else { "、" }
    }

    /// `text` in brackets after what it explains: （text） in Chinese, " (text)" in English.
    pub fn bracketed(self, text: &str) -> String {
        if self == Lang::En {
            format!(" ({text})")
        } else {
            format!("（{text}）")
        }
    }

    /// Remembers the language on this device.
    pub fn save(self) {
        if let Some(storage) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
            let _ = storage.set_item(STORAGE_KEY, if self == Lang::En { "en" } else { "zh" });
        }
        if let Some(html) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.document_element())
        {
            let _ = html.set_attribute("lang", if self == Lang::En { "en" } else { "zh-CN" });
        }
    }
}

impl From<Language> for Lang {
    fn from(l: Language) -> Lang {
        match l {
            Language::Zh => Lang::Zh,
            Language::En => Lang::En,
        }
    }
}

impl From<Lang> for Language {
    fn from(l: Lang) -> Language {
        match l {
            Lang::Zh => Language::Zh,
            Lang::En => Language::En,
        }
    }
}

/// The current language, from context.
pub fn lang() -> RwSignal<Lang> {
    use_context::<RwSignal<Lang>>().unwrap_or_else(|| RwSignal::new(Lang::Zh))
}

macro_rules! words {
    ($($key:ident => $zh:literal, $en:literal;)*) => {
        /// A word or phrase of the UI.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum W { $(
            #[doc = $zh]
            $key,
        )* }

        impl W {
            /// In `lang`.
            pub fn get(self, lang: Lang) -> &'static str {
                match (self, lang) {
                    $( (W::$key, Lang::Zh) => $zh, (W::$key, Lang::En) => $en, )*
                }
            }

            /// In both languages, for what is shown after the language may have changed (the
            /// notices).
            pub fn msg(self) -> Msg {
                Msg::new(self.get(Lang::Zh), self.get(Lang::En))
            }
        }
    };
}

words! {
    AppName => "改革看板", "Reformboard";
    Plan => "改革计划", "Reform plan";
    Units => "单位", "Units";
    Login => "登录", "Sign in";
    Logout => "退出", "Sign out";
    Username => "用户名", "Username";
    Password => "密码", "Password";
    DemoAccounts => "演示账号（点击即可登录）", "Demo accounts (click to sign in)";
    Lead => "牵头单位", "Lead units";
    Cooperating => "配合单位", "Cooperating units";
    LeadLeaders => "牵头领导", "Lead leaders";
    Items => "改革项目", "Reform items";
    Requirements => "改革工作要求", "How the plan is run";
    WorkPlanDue => "工作方案报送截止", "Work plan due";
    Leads => "牵头", "Leads";
    Cooperates => "配合", "Cooperates on";
    None => "无", "none";
    Loading => "正在加载…", "Loading…";
    NotFound => "找不到该页面", "Page not found";
    Online => "在线", "Online";
    Offline => "离线", "Offline";
    Language => "English", "中文";
    SwitchLanguage => "切换语言", "Switch language";
    BackToPlan => "返回改革计划", "Back to the plan";
    ItemBody => "改革内容", "What the reform is";
    Instructions => "领导批示", "Instructions";
    Group => "单位组", "group";
    UnitsInPlan => "参与单位", "Participating units";
    Members => "成员单位", "Member units";
    MemberOf => "所属单位组", "Member of";
    AddMember => "添加成员单位", "Add a member unit";
    MemberName => "成员单位名称", "Member unit's name";
    RemoveMember => "移出", "Remove";
    MainNav => "主导航", "Main navigation";
    SignedInAs => "当前用户", "Signed in as";
    MyAccount => "我的账号", "My account";
    // Boards
    Board => "看板", "Board";
    MyTasks => "我的任务", "My tasks";
    Columns => "看板列", "Columns";
    NoCards => "暂无任务", "No tasks";
    KeyboardHint => "键盘：选中卡片后按 Shift+←/→ 换列，Shift+↑/↓ 调整顺序", "Keyboard: on a card, Shift+←/→ moves it to the next column, Shift+↑/↓ up or down";
    NoTasksOnItems => "该单位在以下项目暂无任务", "Items with no task of this unit yet";
    ChunkNotLoaded => "这部分未能加载，请联网后重试", "This part could not be loaded: connect and try again";
    TryAgain => "重试", "Try again";
    SessionEnded => "登录已失效，请重新登录", "Your session has ended: please sign in again";
    SignInAgain => "重新登录", "Sign in again";
    NoLocalCopy => "本浏览器不允许保存网站数据（隐私模式或浏览器设置）：更改联网时照常提交，但离线时刷新或关闭页面会丢失", "This browser does not let the site keep data (private mode, or a setting): changes are sent when online, but lost if the page is reloaded or closed while offline";
    OutboxNotSaved => "这项更改未能保存在本机：联网时照常提交，但提交前刷新或关闭页面会丢失", "This change could not be saved on this device: it is sent when online, but lost if the page is reloaded or closed before then";
    OfflineChangesDropped => "部分离线更改无法同步：", "Some offline changes could not be synced: ";
    ChangeRefused => "更改未被接受：", "A change was not accepted: ";
    Dismiss => "关闭提示", "Dismiss";
    Lane => "改革项目", "Item";
    OpenCard => "打开任务", "Open task";
    DragHint => "拖动以移动", "Drag to move";
    Blocked => "受阻", "Blocked";
    Progress => "进度", "Progress";
    Checklist => "实施步骤", "Steps";
    Comments => "意见", "Comments";
    MoveTo => "移动到…", "Move to…";
    MoveUp => "上移", "Move up";
    MoveDown => "下移", "Move down";
    Filters => "筛选", "Filters";
    Search => "搜索任务", "Search tasks";
    Overdue => "已逾期", "Overdue";
    DoneLate => "逾期完成", "Done late";
    DueThisMonth => "本月到期", "Due this month";
    Owner => "承担单位", "Owner";
    All => "全部", "All";
    ClearFilters => "清除筛选", "Clear filters";
    NewTask => "新建任务", "New task";
    TaskTitle => "任务名称", "Task title";
    NewTaskPlaceholder => "分解任务：输入任务名称", "Break the item down: task title";
    Due => "截止日期", "Due date";
    MissedHint => "截止日期已过：截止日期和承担单位由综合办调整，未按期完成的任务也只能由综合办归档。", "The due date has passed: the reform office now sets the date and the owner, and only it can archive a task not done on time.";
    ThisIsYou => "本人", "You";
    MissedAsk => "如需更多时间，请提出延期申请。", "To get more time, ask for a postponement.";
    ViewOnly => "只能查看：该任务由", "View only: ";
    ViewOnlyEnd => "承担。", " works this task.";
    Postponing => "延期申请中", "Postponement requested";
    PostponingOvertaken => "延期申请已失效", "Postponement request lapsed";
    AddTask => "添加任务", "Add task";
    Notes => "说明", "Notes";
    Column => "状态", "Status";
    Unblock => "解除受阻", "Unblock";
    BlockedReason => "受阻原因", "Why it is blocked";
    MarkBlocked => "标记受阻", "Mark blocked";
    NewStep => "新步骤", "New step";
    AddStep => "添加步骤", "Add step";
    Remove => "删除", "Remove";
    Rename => "修改", "Rename";
    NewComment => "发表意见", "Write a comment";
    Post => "发表", "Post";
    History => "历史记录", "History";
    HistoryUnavailable => "历史记录暂时无法读取（需要连接服务器）", "The history can't be read now (it needs the server)";
    NoHistory => "暂无历史记录", "No history yet";
    Restore => "恢复", "Restore";
    Archive => "归档", "Archive";
    ConfirmArchive => "确定归档此任务？归档后可在历史中恢复。", "Archive this task? It can be restored.";
    Close => "关闭", "Close";
    OverallProgress => "总体进度", "Overall progress";
    Leader => "总览", "Overview";
    OverdueCount => "逾期", "Overdue";
    UnitBoard => "单位看板", "Unit board";
    ShowArchived => "已归档", "Archived";
    OpenUnitBoard => "看板", "Board";
    // Accounts, passwords and the audit trail (pages::accounts, pages::password, pages::audit)
    Accounts => "账号管理", "Accounts";
    AuditLog => "审计日志", "Audit log";
    OfficeOnly => "只有综合办可以使用此页面", "Only the reform office can use this page";
    ChangePassword => "修改密码", "Change password";
    MustChangePassword => "首次登录或密码已被重置：请先设置新密码，然后才能使用看板。", "This is a first sign-in or the password was reset: set a new password before using the boards.";
    CurrentPassword => "原密码", "Current password";
    NewPassword => "新密码", "New password";
    ConfirmPassword => "再次输入新密码", "New password again";
    PasswordsDiffer => "两次输入的新密码不一致", "The two new passwords differ";
    PasswordTooShort => "密码至少8位", "At least 8 characters";
    PasswordChanged => "密码已修改", "Password changed";
    LogoutEverywhere => "在所有设备上退出", "Sign out on all devices";
    LogoutEverywhereExplain => "手机或电脑丢失、或在他人电脑上登录过时使用。", "Use this if a phone or computer was lost, or you signed in on someone else's.";
    ConfirmLogoutEverywhere => "确定在所有设备（包括本机）上退出？", "Sign out on every device, this one included?";
    Confirm => "确定", "Confirm";
    Cancel => "取消", "Cancel";
    Save => "保存", "Save";
    FilterUsers => "查找账号", "Find an account";
    NoRecords => "没有符合条件的记录", "Nothing matches";
    NewUser => "新建账号", "New account";
    DisplayName => "姓名", "Name";
    Unit => "所在单位", "Unit";
    PickUnit => "请选择单位", "Choose a unit";
    Role => "角色", "Role";
    InitialPassword => "初始密码", "Initial password";
    InitialPasswordHint => "请将初始密码告知本人；首次登录时须修改。", "Tell the user the initial password; it must be changed at first sign-in.";
    Generate => "重新生成", "Generate";
    CreateUser => "创建账号", "Create account";
    UserCreated => "账号已创建", "Account created";
    ResetPassword => "重置密码", "Reset password";
    TempPassword => "临时密码", "Temporary password";
    ResetExplain => "重置后，该账号在所有设备上立即退出；本人须用临时密码登录并设置新密码。", "The account is signed out everywhere at once; its owner signs in with the temporary password and must set a new one.";
    ConfirmReset => "确认重置", "Reset password";
    PasswordResetDone => "密码已重置", "Password reset";
    Disable => "停用", "Disable";
    Enable => "启用", "Enable";
    Disabled => "已停用", "Disabled";
    DisableExplain => "停用后，该账号在所有设备上立即退出，且不能再登录，直至重新启用。", "The account is signed out everywhere at once and cannot sign in until enabled again.";
    ConfirmDisable => "确认停用", "Disable account";
    DisabledDone => "账号已停用", "Account disabled";
    EnabledDone => "账号已启用", "Account enabled";
    MustChange => "待改密码", "Must change password";
    ChangeRole => "修改角色/单位", "Change role/unit";
    RoleExplain => "所在单位决定该账号的角色和能做什么，修改立即生效。", "The unit decides the account's role and what it may do; the change applies at once.";
    RoleChanged => "角色/单位已修改", "Role/unit changed";
    Email => "通知邮箱", "Notification e-mail";
    EmailExplain => "催办、退回、批示和通报会同时发到这个邮箱（服务器配置了邮件时）；留空则不发邮件。", "Reminders, returns, instructions and bulletins are also mailed here (when the server has mail set up); leave it empty to mail nothing.";
    EmailSaved => "通知邮箱已保存", "Notification e-mail saved";
    Actor => "操作人", "By";
    AllUsers => "全部用户", "All users";
    Action => "操作", "Action";
    AllActions => "全部操作", "All actions";
    Category => "类别", "Category";
    SecurityEvents => "安全事件", "Security events";
    BoardChanges => "看板变更", "Board changes";
    Entity => "对象编号", "Entity";
    FromDate => "起始日期", "From";
    ToDate => "结束日期", "To";
    Apply => "查询", "Apply";
    ExportCsv => "导出 CSV（Excel）", "Export CSV (Excel)";
    LoadMore => "加载更多", "Load more";
    AnonymousVisitor => "未登录访客", "Not signed in";
    System => "系统", "System";
    Changes => "变更内容", "What changed";
}

/// Shorthand: the word in the current language, as a reactive closure for `view!`.
pub fn t(word: W) -> impl Fn() -> &'static str + Copy + Send + Sync + 'static {
    let lang = lang();
    move || word.get(lang.get())
}

/// A phrase given in both languages where it is used: the workflow screens keep their words
/// beside them instead of in `W`; both languages are arguments, so neither can be forgotten.
pub fn tr(
    zh: &'static str,
    en: &'static str,
) -> impl Fn() -> &'static str + Copy + Send + Sync + 'static {
    let lang = lang();
    move || if lang.get() == Lang::En { en } else { zh }
}

/// A date as 2014年3月31日 in Chinese, 31 Mar 2014 in English (as `shared` writes dates into
/// messages).
pub fn date(d: chrono::NaiveDate, lang: Lang) -> String {
    match lang {
        Lang::Zh => shared::board::zh_date(d),
        Lang::En => shared::board::en_date(d),
    }
}

pub use shared::board::month_abbr;

/// A timestamp (ms) as 2014年3月31日 14:05 in Chinese, 31 Mar 2014 14:05 in English (the date
/// as `date` writes it), in Beijing time (`shared::op::local_time`).
pub fn datetime(ms: i64, lang: Lang) -> String {
    use chrono::Timelike;
    let t = shared::op::local_time(shared::entity::Millis(ms));
    format!("{} {:02}:{:02}", date(t.date(), lang), t.hour(), t.minute())
}

/// An audit action (a mutation name or a security event) in words: the names are `shared`'s,
/// which the server's CSV export uses too.
pub fn action_name(action: &str, lang: Lang) -> String {
    match lang {
        Lang::Zh => shared::audit::action_zh(action).to_string(),
        Lang::En => shared::audit::action_en(action).to_string(),
    }
}
