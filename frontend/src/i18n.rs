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
