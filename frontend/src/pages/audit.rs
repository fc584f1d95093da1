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

/// The fields of an entity that a change touched, as `field: before → after`.
fn changed_fields(before: Option<&str>, after: Option<&str>) -> Vec<String> {
    let data = |s: Option<&str>| {
        s.and_then(|s| serde_json::from_str::<Value>(s).ok())
            .and_then(|v| v.get("data").cloned())
            .unwrap_or(Value::Null)
    };
    let (b, a) = (data(before), data(after));
    let short = |v: Option<&Value>| {
        let text = match v {
            None | Some(Value::Null) => "—".to_string(),
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
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
        .filter(|k| *k != "updated_at" && b.get(k) != a.get(k))
        .map(|k| format!("{k}: {} → {}", short(b.get(k)), short(a.get(k))))
        .collect()
}

/// The audit page.
#[component]
pub fn AuditPage() -> impl IntoView {
    let session = use_session();
    let lang = lang();
    let is_office = move || session.is_office();
    let form = RwSignal::new(Filter::default());
    let applied = RwSignal::new(Filter::default());
    let limit = RwSignal::new(PAGE);
    let users = LocalResource::new(|| async {
        api::get::<Vec<UserSummary>>("/api/users")
            .await
            .unwrap_or_default()
    });
    let rows = LocalResource::new(move || {
        let query = applied.get().query();
        let limit = limit.get();
        async move {
            let sep = if query.is_empty() { "" } else { "&" };
            api::get::<Vec<AuditRecord>>(&format!("/api/audit?limit={limit}{sep}{query}")).await
        }
    });
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
        limit.set(PAGE);
        applied.set(form.get_untracked());
    };
    let reset = move |_| {
        form.set(Filter::default());
        limit.set(PAGE);
        applied.set(Filter::default());
    };
    let field = move |f: fn(&mut Filter) -> &mut String| {
        move |ev: leptos::ev::Event| {
            let v = event_target_value(&ev);
            form.update(|filter| *f(filter) = v);
        }
    };

    let table = move || {
        let l = lang.get();
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
        let more = records.len() >= limit.get_untracked();
        view! {
            <ol class="audit-list" role="list">
                {records.into_iter().map(|r| audit_row(r, l)).collect_view()}
            </ol>
            {more.then(|| view! {
                <button type="button" class="more" on:click=move |_| limit.update(|n| *n += PAGE)>
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
    let who = r.user_name.clone().unwrap_or_else(|| {
        if r.user_id.is_some() {
            r.user_id.clone().unwrap_or_default()
        } else if r.action == "login_failed" || r.action == "login_throttled" {
            W::AnonymousVisitor.get(l).into()
        } else {
            W::System.get(l).into()
        }
    });
    let changes = changed_fields(r.before.as_deref(), r.after.as_deref());
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
