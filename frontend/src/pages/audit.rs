//! `/admin/audit`: the office's view of the audit trail (留痕), filtered by user, action,
//! category, entity and date, newest first, a page at a time; and the same selection as a CSV
//! file for Excel. Text from users (titles, comments, usernames tried at login) is only ever
//! shown as text.

use crate::api;
use crate::i18n::{self, Lang, W, action_name, lang, t};
use crate::session::use_session;
use leptos::prelude::*;
use serde_json::Value;
use shared::account::UserSummary;
use shared::audit::{ACTIONS, AuditRecord};

/// Rows fetched per page.
const PAGE: usize = 100;

/// The filters as the form holds them.
#[derive(Clone, Debug, Default, PartialEq)]
struct Filter {
    user: String,
    action: String,
    category: String,
    entity: String,
    from: String,
    to: String,
}

/// A date (`2014-03-31`) as the first millisecond of that day in Beijing time, which is what the
/// export shows.
fn day_start(date: &str) -> Option<i64> {
    if date.is_empty() {
        return None;
    }
    let ms = js_sys::Date::parse(&format!("{date}T00:00:00+08:00"));
    (!ms.is_nan()).then_some(ms as i64)
}

impl Filter {
    /// The query string for `/api/audit` and `/api/audit.csv`.
    fn query(&self) -> String {
        let mut parts = Vec::new();
        let mut add = |k: &str, v: &str| {
            if !v.is_empty() {
                parts.push(format!("{k}={}", js_sys::encode_uri_component(v)));
            }
        };
        add("user", &self.user);
        add("action", &self.action);
        add("category", &self.category);
        add("entity", self.entity.trim());
        add(
            "from",
            &day_start(&self.from)
                .map(|v| v.to_string())
                .unwrap_or_default(),
        );
        // "To" includes that whole day.
        let to = day_start(&self.to).map(|v| (v + 24 * 3600 * 1000).to_string());
        add("to", &to.unwrap_or_default());
        parts.join("&")
    }
}

/// The fields of an entity that a change touched, as `field: before → after`, in words: the
/// fields people change by their names on screen, dates as dates, units by name, yes and no.
fn changed_fields(
    before: Option<&str>,
    after: Option<&str>,
    l: Lang,
    name_of: &dyn Fn(&str) -> Option<String>,
) -> Vec<String> {
    let data = |s: Option<&str>| {
        s.and_then(|s| serde_json::from_str::<Value>(s).ok())
            .and_then(|v| v.get("data").cloned())
            .unwrap_or(Value::Null)
    };
    let (b, a) = (data(before), data(after));
    let short = |key: &str, v: Option<&Value>| {
        let text = match v {
            None | Some(Value::Null) => "—".to_string(),
            Some(v) => value_words(key, v, l, name_of),
        };
        let mut cut: String = text.chars().take(80).collect();
        if cut.len() < text.len() {
            cut.push('…');
        }
        cut
    };
    let mut keys: Vec<&String> = a.as_object().into_iter().flat_map(|o| o.keys()).collect();
    keys.extend(b.as_object().into_iter().flat_map(|o| o.keys()));
    shared::sorting::sort(&mut keys);
    keys.dedup();
    keys.into_iter()
        .filter(|k| !matches!(k.as_str(), "updated_at" | "progress_log") && b.get(*k) != a.get(*k))
        .map(|k| {
            format!(
                "{}{}{} → {}",
                field_name(k, l),
                l.colon(),
                short(k, b.get(k)),
                short(k, a.get(k))
            )
        })
        .collect()
}

/// A stored field by its name on screen; one that none shows, as stored.
fn field_name(key: &str, l: Lang) -> String {
    // The words the card's detail and the accounts page use, where they name it.
    let word = match key {
        "notes" => Some(W::Notes),
        "owner" => Some(W::Owner),
        "column" => Some(W::Column),
        "due" => Some(W::Due),
        "progress" => Some(W::Progress),
        "steps" => Some(W::Checklist),
        "blocked" => Some(W::Blocked),
        "role" => Some(W::Role),
        _ => None,
    };
    if let Some(word) = word {
        return word.get(l).to_string();
    }
    let (zh, en) = match key {
        "title" => ("名称", "Title"),
        "detail" => ("说明", "Details"),
        "unit" => ("单位", "Unit"),
        "item" => ("改革项目", "Item"),
        "automatic" => ("自动", "Automatic"),
        "assigned" => ("协调单位", "Units helping"),
        "state" => ("状态", "State"),
        "sort_key" => ("顺序", "Order"),
        "archived" => ("已归档", "Archived"),
        "done_at" => ("完成时间", "Done"),
        "postponements" => ("延期申请", "Postponements"),
        "parts" => ("报送内容", "Text"),
        "versions" => ("版本", "Versions"),
        "body" | "text" => ("内容", "Text"),
        "published" => ("已发布", "Published"),
        "published_at" => ("发布时间", "Published"),
        "read_by" => ("已读单位", "Read by"),
        "disabled" => ("已停用", "Disabled"),
        "email" => ("邮箱", "E-mail"),
        "display_name" => ("名称", "Name"),
        "language" => ("语言", "Language"),
        _ => return key.to_string(),
    };
    (if l == Lang::En { en } else { zh }).to_string()
}

/// A stored value in words.
fn value_words(key: &str, v: &Value, l: Lang, name_of: &dyn Fn(&str) -> Option<String>) -> String {
    match v {
        Value::Bool(true) => (if l == Lang::En { "yes" } else { "是" }).into(),
        Value::Bool(false) => (if l == Lang::En { "no" } else { "否" }).into(),
        Value::String(s) => {
            if let Ok(d) = s.parse::<chrono::NaiveDate>() {
                return i18n::date(d, l);
            }
            if let Some(c) = shared::board::Column::from_slug(s).filter(|_| key == "column") {
                return crate::board::column_name(c, l).to_string();
            }
            name_of(s).unwrap_or_else(|| s.clone())
        }
        Value::Number(n) if key.ends_with("_at") => n
            .as_i64()
            .map_or_else(|| n.to_string(), |ms| i18n::datetime(ms, l)),
        Value::Number(n) if key == "progress" => format!("{n}%"),
        Value::Array(list) => {
            let names: Option<Vec<String>> =
                list.iter().map(|x| x.as_str().and_then(name_of)).collect();
            match names {
                // A list of units (who helps, who has read it).
                Some(names) if !names.is_empty() => names.join(l.list_separator()),
                _ => {
                    let n = list.len();
                    if l == Lang::En {
                        shared::message::counted(n, "item")
                    } else {
                        format!("{n}项")
                    }
                }
            }
        }
        other => other.to_string(),
    }
}

/// The audit page.
#[component]
pub fn AuditPage() -> impl IntoView {
    let session = use_session();
    let lang = lang();
    let is_office = move || session.is_office();
    let form = RwSignal::new(Filter::default());
    let applied = RwSignal::new(Filter::default());
    // Pages after the first, asked for by offset as the reader scrolls back: rows written
    // meanwhile shift the offsets down, so a page may repeat a row (dropped by id), never skip
    // one. (One growing `limit` stopped at the server's page limit, 1,000 rows.)
    let older: RwSignal<Vec<AuditRecord>> = RwSignal::new(Vec::new());
    let exhausted = RwSignal::new(false);
    let more_error = RwSignal::new(None::<shared::message::Msg>);
    let users = LocalResource::new(|| async {
        api::get::<Vec<UserSummary>>("/api/users")
            .await
            .unwrap_or_default()
    });
    let rows = LocalResource::new(move || {
        let query = applied.get().query();
        async move {
            let sep = if query.is_empty() { "" } else { "&" };
            api::get::<Vec<AuditRecord>>(&format!("/api/audit?limit={PAGE}{sep}{query}")).await
        }
    });
    let start_over = move || {
        older.set(Vec::new());
        exhausted.set(false);
        more_error.set(None);
    };
    let load_more = move |shown: usize| {
        let query = applied.get_untracked().query();
        leptos::task::spawn_local(async move {
            let sep = if query.is_empty() { "" } else { "&" };
            let url = format!("/api/audit?limit={PAGE}&offset={shown}{sep}{query}");
            match api::get::<Vec<AuditRecord>>(&url).await {
                Ok(page) => {
                    exhausted.set(page.len() < PAGE);
                    more_error.set(None);
                    let first: Vec<String> = rows
                        .get_untracked()
                        .and_then(Result::ok)
                        .map(|r| r.into_iter().map(|x| x.id).collect())
                        .unwrap_or_default();
                    older.update(|o| {
                        for r in page {
                            if !first.contains(&r.id) && !o.iter().any(|x| x.id == r.id) {
                                o.push(r);
                            }
                        }
                    });
                }
                Err(e) => more_error.set(Some(e.message())),
            }
        });
    };
    let csv_href = move || {
        let q = applied.get().query();
        if q.is_empty() {
            "/api/audit.csv".to_string()
        } else {
            format!("/api/audit.csv?{q}")
        }
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        start_over();
        applied.set(form.get_untracked());
    };
    let reset = move |_| {
        form.set(Filter::default());
        start_over();
        applied.set(Filter::default());
    };
    let field = move |f: fn(&mut Filter) -> &mut String| {
        move |ev: leptos::ev::Event| {
            let v = event_target_value(&ev);
            form.update(|filter| *f(filter) = v);
        }
    };

    let sync = crate::sync::use_sync();
    let table = move || {
        let l = lang.get();
        // Ids in the changes are named from the local copy: drawn again once it is there.
        sync.loaded.track();
        let Some(result) = rows.get() else {
            return view! { <p class="loading">{W::Loading.get(l)}</p> }.into_any();
        };
        let records = match result {
            Ok(r) => r,
            Err(e) => {
                let said = l.of(&e.message()).to_string();
                return view! { <p class="error" role="alert">{said}</p> }.into_any();
            }
        };
        if records.is_empty() {
            return view! { <p class="empty">{W::NoRecords.get(l)}</p> }.into_any();
        }
        let more = records.len() >= PAGE && !exhausted.get();
        let mut records = records;
        records.extend(older.get());
        let shown = records.len();
        view! {
            <ol class="audit-list" role="list">
                {records.into_iter().map(|r| audit_row(r, l)).collect_view()}
            </ol>
            {move || more_error.get().map(|m| view! { <p class="error" role="alert">{lang.get().of(&m).to_string()}</p> })}
            {more.then(|| view! {
                <button type="button" class="more" on:click=move |_| load_more(shown)>
                    {t(W::LoadMore)}
                </button>
            })}
        }
        .into_any()
    };

    view! {
        <article class="audit-page">
            <h1>{t(W::AuditLog)}</h1>
            <Show when=is_office fallback=move || view! { <p class="error" role="alert">{t(W::OfficeOnly)}</p> }>
                <form class="audit-filters" on:submit=submit aria-label=t(W::Filters)>
                    <label>{t(W::Actor)}
                        <select name="user" on:change=field(|f| &mut f.user)>
                            <option value="" selected=move || form.with(|f| f.user.is_empty())>{t(W::AllUsers)}</option>
                            {move || users.get().unwrap_or_default().into_iter().map(|u| {
                                let id = u.id.to_string();
                                let selected = { let id = id.clone(); move || form.with(|f| f.user == id) };
                                view! { <option value=id selected=selected>{format!("{}{}", u.display_name, lang.get().bracketed(&u.username))}</option> }
                            }).collect_view()}
                        </select>
                    </label>
                    <label>{t(W::Action)}
                        <select name="action" on:change=field(|f| &mut f.action)>
                            <option value="" selected=move || form.with(|f| f.action.is_empty())>{t(W::AllActions)}</option>
                            {ACTIONS.iter().map(|(code, _, _)| view! {
                                <option value=*code selected=move || form.with(|f| f.action == *code)>
                                    {move || action_name(code, lang.get())}
                                </option>
                            }).collect_view()}
                        </select>
                    </label>
                    <label>{t(W::Category)}
                        <select name="category" on:change=field(|f| &mut f.category)>
                            <option value="" selected=move || form.with(|f| f.category.is_empty())>{t(W::All)}</option>
                            <option value="security" selected=move || form.with(|f| f.category == "security")>{t(W::SecurityEvents)}</option>
                            <option value="changes" selected=move || form.with(|f| f.category == "changes")>{t(W::BoardChanges)}</option>
                        </select>
                    </label>
                    <label>{t(W::Entity)}
                        <input name="entity" placeholder="task/…" prop:value=move || form.with(|f| f.entity.clone())
                            on:input=field(|f| &mut f.entity)/>
                    </label>
                    <label>{t(W::FromDate)}
                        <input type="date" name="from" prop:value=move || form.with(|f| f.from.clone())
                            on:input=field(|f| &mut f.from)/>
                    </label>
                    <label>{t(W::ToDate)}
                        <input type="date" name="to" prop:value=move || form.with(|f| f.to.clone())
                            on:input=field(|f| &mut f.to)/>
                    </label>
                    <div class="filter-actions">
                        <button type="submit" class="primary">{t(W::Apply)}</button>
                        <button type="button" on:click=reset>{t(W::ClearFilters)}</button>
                        <a class="button" href=csv_href download="">{t(W::ExportCsv)}</a>
                    </div>
                </form>
                {table}
            </Show>
        </article>
    }
}

/// One record: when, what, who, on what, and what changed.
fn audit_row(r: AuditRecord, l: Lang) -> impl IntoView {
    // "姓名（用户名）" as the server writes it; in English the login in ASCII brackets.
    let who = r
        .user_name
        .clone()
        .map(|n| match l {
            Lang::Zh => n,
            Lang::En => n.replace('（', " (").replace('）', ")"),
        })
        .unwrap_or_else(|| {
            if r.user_id.is_some() {
                r.user_id.clone().unwrap_or_default()
            } else if r.action == "login_failed" || r.action == "login_throttled" {
                W::AnonymousVisitor.get(l).into()
            } else {
                W::System.get(l).into()
            }
        });
    let sync = crate::sync::use_sync();
    // An id in a change, by name: a unit's name, an item's number.
    let name_of = |id: &str| {
        let id = id.parse::<uuid::Uuid>().ok()?;
        sync.view.with_untracked(|s| {
            s.unit(shared::ids::UnitId(id))
                .map(|u| u.name.clone())
                .or_else(|| {
                    let n = s.item(shared::ids::ItemId(id))?.number;
                    Some(if l == Lang::En {
                        format!("item {n}")
                    } else {
                        format!("第{n}项")
                    })
                })
        })
    };
    let changes = changed_fields(r.before.as_deref(), r.after.as_deref(), l, &name_of);
    let security = shared::audit::is_security_event(&r.action);
    view! {
        <li class="audit-row" class:security=security>
            <div class="audit-head">
                <time>{i18n::datetime(r.at, l)}</time>
                <strong class="action">{action_name(&r.action, l)}</strong>
                <span class="actor">{who}</span>
                {r.unit_name.clone().map(|u| view! { <span class="unit">{u}</span> })}
            </div>
            {r.entity.clone().map(|key| view! {
                <div class="audit-entity">
                    {(if l == Lang::En { r.entity_name_en.clone().or_else(|| r.entity_name.clone()) } else { r.entity_name.clone() }).map(|n| view! { <span>{n}</span> })}
                    <code>{key}</code>
                </div>
            })}
            {r.detail.clone().filter(|d| Some(d) != r.entity_name.as_ref()).map(|d| view! { <p class="audit-detail">{d}</p> })}
            {(!changes.is_empty()).then(|| view! {
                <details>
                    <summary>{W::Changes.get(l)}" ("{changes.len()}")"</summary>
                    <ul>{changes.into_iter().map(|c| view! { <li>{c}</li> }).collect_view()}</ul>
                </details>
            })}
        </li>
    }
}
