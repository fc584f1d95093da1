//! The UI's words in Chinese (default) and English. One table, so a missing translation is a
//! compile error rather than a blank on screen.

use leptos::prelude::*;

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
    Pending => "项待同步", "changes waiting";
    Language => "English", "中文";
    SwitchLanguage => "切换语言", "Switch language";
    BackToPlan => "返回改革计划", "Back to the plan";
    ItemBody => "改革内容", "What the reform is";
    Group => "单位组", "group";
    UnitsInPlan => "参与单位", "Participating units";
    MainNav => "主导航", "Main navigation";
    SignedInAs => "当前用户", "Signed in as";
    // Boards
    Board => "看板", "Board";
    MyTasks => "我的任务", "My tasks";
    Columns => "看板列", "Columns";
    NoCards => "暂无任务", "No tasks";
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
    DueThisMonth => "本月到期", "Due this month";
    Owner => "承担单位", "Owner";
    All => "全部", "All";
    ClearFilters => "清除筛选", "Clear filters";
    NewTask => "新建任务", "New task";
    TaskTitle => "任务名称", "Task title";
    NewTaskPlaceholder => "分解任务：输入任务名称", "Break the item down: task title";
    Due => "截止日期", "Due date";
    AddTask => "添加任务", "Add task";
    Notes => "说明", "Notes";
    Column => "状态", "Status";
    Unblock => "解除受阻", "Unblock";
    BlockedReason => "受阻原因", "Why it is blocked";
    MarkBlocked => "标记受阻", "Mark blocked";
    NewStep => "新步骤", "New step";
    AddStep => "添加步骤", "Add step";
    Remove => "删除", "Remove";
    NewComment => "发表意见", "Write a comment";
    Post => "发表", "Post";
    History => "历史记录", "History";
    Restore => "恢复", "Restore";
    Archive => "归档", "Archive";
    ConfirmArchive => "确定归档此任务？归档后可在历史中恢复。", "Archive this task? It can be restored.";
    Close => "关闭", "Close";
    OverallProgress => "总体进度", "Overall progress";
    Leader => "领导视图", "Overview";
    OverdueCount => "逾期", "Overdue";
    UnitBoard => "单位看板", "Unit board";
}

/// Shorthand: the word in the current language, as a reactive closure for `view!`.
pub fn t(word: W) -> impl Fn() -> &'static str + Copy + Send + Sync + 'static {
    let lang = lang();
    move || word.get(lang.get())
}

/// A date as 2014年3月31日 in Chinese, 31 Mar 2014 in English.
pub fn date(d: chrono::NaiveDate, lang: Lang) -> String {
    use chrono::Datelike;
    match lang {
        Lang::Zh => format!("{}年{}月{}日", d.year(), d.month(), d.day()),
        Lang::En => d.format("%-d %b %Y").to_string(),
    }
}

/// A timestamp (ms) as 2014年3月31日 14:05 in Chinese.
pub fn datetime(ms: i64, lang: Lang) -> String {
    let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64));
    let (y, mo, da, h, mi) = (d.get_full_year(), d.get_month() + 1, d.get_date(), d.get_hours(), d.get_minutes());
    match lang {
        Lang::Zh => format!("{y}年{mo}月{da}日 {h:02}:{mi:02}"),
        Lang::En => format!("{y}-{mo:02}-{da:02} {h:02}:{mi:02}"),
    }
}

/// An audit action (a mutation name or a security event) in words.
pub fn action_name(action: &str, lang: Lang) -> String {
    let zh = match action {
        "create_task" => "创建任务",
        "set_task_title" => "修改名称",
        "set_task_notes" => "修改说明",
        "set_task_due" => "修改截止日期",
        "set_task_progress" => "更新进度",
        "assign_task" => "指派单位",
        "move_task" => "移动任务",
        "set_task_blocked" => "标记/解除受阻",
        "archive_task" => "归档",
        "restore_task" => "恢复",
        "add_step" => "添加步骤",
        "tick_step" => "勾选步骤",
        "rename_step" => "修改步骤",
        "move_step" => "调整步骤顺序",
        "remove_step" => "删除步骤",
        "add_comment" => "发表意见",
        "import_plan" => "导入计划",
        other => return other.replace('_', " "),
    };
    match lang {
        Lang::Zh => zh.to_string(),
        Lang::En => action.replace('_', " "),
    }
}
