//! The Reformboard app: Leptos, client-side rendered, compiled to wasm.

mod api;
mod board;
mod history;
mod i18n;
mod local_db;
mod office;
mod pages;
mod session;
mod shell;
mod sync;
mod util;
mod workflow;

use i18n::{Lang, W, t};
use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;
use session::Session;
use wasm_bindgen::prelude::wasm_bindgen;

/// Entry point called by the generated JS glue once the wasm module is instantiated.
#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(App);
}

#[component]
fn App() -> impl IntoView {
    let lang = RwSignal::new(Lang::load());
    lang.get_untracked().save();
    provide_context(lang);
    let sync = sync::Sync::new();
    provide_context(sync);
    let session = Session {
        me: RwSignal::new(None),
    };
    provide_context(session);
    session.check(sync);
    // Each user's language follows them, to every device they sign in on.
    Effect::new(move |_| {
        let chosen = session.me.with(|me| {
            me.as_ref()
                .and_then(|m| m.as_ref().and_then(|m| m.language))
        });
        if let Some(l) = chosen.map(Lang::from)
            && l != lang.get_untracked()
        {
            l.save();
            lang.set(l);
        }
    });
    view! {
        <Router>
            <Routes fallback=|| view! { <p class="empty">{t(W::NotFound)}</p> }>
                <Route path=path!("/login") view=pages::login::LoginPage/>
                <Route path=path!("/") view=|| view! { <shell::Shell><pages::plan::PlanPage/></shell::Shell> }/>
                <Route path=path!("/items/:number") view=|| view! { <shell::Shell><pages::item::ItemPage/></shell::Shell> }/>
                // The item's sections (pages::item, workflow).
                <Route path=path!("/items/:number/submissions") view=|| view! { <shell::Shell><pages::item::ItemPage tab=pages::item::Tab::Submissions/></shell::Shell> }/>
                <Route path=path!("/items/:number/submissions/:kind") view=|| view! { <shell::Shell><pages::item::ItemPage tab=pages::item::Tab::Submission/></shell::Shell> }/>
                <Route path=path!("/items/:number/difficulties") view=|| view! { <shell::Shell><pages::item::ItemPage tab=pages::item::Tab::Difficulties/></shell::Shell> }/>
                <Route path=path!("/items/:number/instructions") view=|| view! { <shell::Shell><pages::item::ItemPage tab=pages::item::Tab::Instructions/></shell::Shell> }/>
                <Route path=path!("/items/:number/evaluations") view=|| view! { <shell::Shell><pages::item::ItemPage tab=pages::item::Tab::Evaluations/></shell::Shell> }/>
                <Route path=path!("/items/:number/timeline") view=|| view! { <shell::Shell><pages::item::ItemPage tab=pages::item::Tab::Timeline/></shell::Shell> }/>
                <Route path=path!("/units") view=|| view! { <shell::Shell><pages::units::UnitsPage/></shell::Shell> }/>
                // Boards (pages::board).
                <Route path=path!("/items/:number/board") view=|| view! { <shell::Shell><pages::board::ItemBoardPage/></shell::Shell> }/>
                <Route path=path!("/units/:id/board") view=|| view! { <shell::Shell><pages::board::UnitBoardPage/></shell::Shell> }/>
                <Route path=path!("/my") view=|| view! { <shell::Shell><pages::board::MyBoardPage/></shell::Shell> }/>
                <Route path=path!("/overview") view=|| view! { <shell::Shell><pages::leader::OverviewPage/></shell::Shell> }/>
                // Accounts and audit (pages::accounts, pages::audit, pages::password).
                <Route path=path!("/admin/users") view=|| view! { <shell::Shell><pages::accounts::AccountsPage/></shell::Shell> }/>
                <Route path=path!("/admin/audit") view=|| view! { <shell::Shell><pages::audit::AuditPage/></shell::Shell> }/>
                // Running the plan: supervision, notices, bulletins, timeline, assessment (office).
                <Route path=path!("/supervision") view=|| view! { <shell::Shell><office::supervision::SupervisionPage/></shell::Shell> }/>
                <Route path=path!("/notices") view=|| view! { <shell::Shell><office::notices::NoticesPage/></shell::Shell> }/>
                <Route path=path!("/bulletins") view=|| view! { <shell::Shell><office::bulletins::BulletinsPage/></shell::Shell> }/>
                <Route path=path!("/bulletins/:id") view=|| view! { <shell::Shell><office::bulletins::BulletinPage/></shell::Shell> }/>
                <Route path=path!("/timeline") view=|| view! { <shell::Shell><office::timeline::TimelinePage/></shell::Shell> }/>
                <Route path=path!("/assessment") view=|| view! { <shell::Shell><office::assessment::AssessmentPage/></shell::Shell> }/>
                <Route path=path!("/inspections") view=|| view! { <shell::Shell><office::inspections::InspectionsPage/></shell::Shell> }/>
                <Route path=path!("/password") view=|| view! { <shell::Shell><pages::password::PasswordPage/></shell::Shell> }/>
            </Routes>
        </Router>
    }
}
