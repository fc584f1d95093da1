//! The Reformboard app: Leptos, client-side rendered, compiled to wasm.

mod api;
mod board;
mod chunk;
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
use leptos_router::{Lazy, LazyRoute, path};
use session::Session;
use wasm_bindgen::prelude::wasm_bindgen;

/// Entry point called by the generated JS glue once the wasm module is instantiated.
#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
    util::mark("wasm main");
    leptos::mount::mount_to_body(App);
    util::mark("mounted");
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
                // What a unit or a leader on a phone opens first is in the main wasm: login, the
                // plan, an item and the boards.
                <Route path=path!("/login") view=pages::login::LoginPage/>
                <Route path=path!("/") view=|| view! { <shell::Shell><pages::plan::PlanPage/></shell::Shell> }/>
                <Route path=path!("/items/:number") view=|| view! { <shell::Shell><pages::item::ItemPage/></shell::Shell> }/>
                <Route path=path!("/items/:number/board") view=|| view! { <shell::Shell><pages::board::ItemBoardPage/></shell::Shell> }/>
                <Route path=path!("/units/:id/board") view=|| view! { <shell::Shell><pages::board::UnitBoardPage/></shell::Shell> }/>
                <Route path=path!("/my") view=|| view! { <shell::Shell><pages::board::MyBoardPage/></shell::Shell> }/>
                <Route path=path!("/overview") view=|| view! { <shell::Shell><pages::leader::OverviewPage/></shell::Shell> }/>
                // Every user's first login ends here (must_change_password): kept in the main wasm.
                <Route path=path!("/password") view=|| view! { <shell::Shell><pages::password::PasswordPage/></shell::Shell> }/>
                // Everything else is fetched on first use (see `lazy_screen!`).
                // The item's sections (pages::item, workflow).
                <Route path=path!("/items/:number/submissions") view={Lazy::<ItemSubmissions>::new()}/>
                <Route path=path!("/items/:number/submissions/:kind") view={Lazy::<ItemSubmission>::new()}/>
                <Route path=path!("/items/:number/difficulties") view={Lazy::<ItemDifficulties>::new()}/>
                <Route path=path!("/items/:number/instructions") view={Lazy::<ItemInstructions>::new()}/>
                <Route path=path!("/items/:number/evaluations") view={Lazy::<ItemEvaluations>::new()}/>
                <Route path=path!("/items/:number/timeline") view={Lazy::<ItemTimeline>::new()}/>
                <Route path=path!("/units") view={Lazy::<Units>::new()}/>
                // Accounts and audit (pages::accounts, pages::audit).
                <Route path=path!("/admin/users") view={Lazy::<Accounts>::new()}/>
                <Route path=path!("/admin/audit") view={Lazy::<Audit>::new()}/>
                // Running the plan: supervision, notices, bulletins, timeline, assessment (office).
                <Route path=path!("/supervision") view={Lazy::<Supervision>::new()}/>
                <Route path=path!("/notices") view={Lazy::<Notices>::new()}/>
                <Route path=path!("/bulletins") view={Lazy::<Bulletins>::new()}/>
                <Route path=path!("/bulletins/:id") view={Lazy::<Bulletin>::new()}/>
                <Route path=path!("/timeline") view={Lazy::<Timeline>::new()}/>
                <Route path=path!("/assessment") view={Lazy::<Assessment>::new()}/>
                <Route path=path!("/inspections") view={Lazy::<Inspections>::new()}/>
            </Routes>
        </Router>
    }
}

/// A screen in its own wasm chunk: `cargo xtask build-site` splits the code only it uses out of
/// the main module (at its `#[wasm_split]` function, named in parentheses), and the router
/// fetches that chunk the first time the screen is opened. The service worker precaches the
/// chunks, so they open offline too; one that can't be fetched (no connection before the
/// precache) shows `chunk::NotLoadedScreen` instead of stopping the app.
macro_rules! lazy_screen {
    ($($(#[$doc:meta])* $route:ident ($split:ident) => $view:expr;)*) => {$(
        $(#[$doc])*
        struct $route;

        impl LazyRoute for $route {
            fn data() -> Self {
                Self
            }

            // The router awaits this before it leaves the screen shown, so the old screen stays
            // up while the chunk loads instead of a blank page. A failure is left to `view`.
            async fn preload() {
                let _ = $split::preload().await;
            }

            async fn view(_this: Self) -> AnyView {
                match $split::view().await {
                    Ok(view) => view,
                    Err(_) => view! { <shell::Shell><chunk::NotLoadedScreen/></shell::Shell> }.into_any(),
                }
            }
        }

        mod $split {
            use super::*;

            #[wasm_split_helpers::wasm_split($split, fallible, preload(preload))]
            pub fn view() -> Result<AnyView, chunk::NotLoaded> {
                Ok($view.into_any())
            }
        }
    )*};
}

lazy_screen! {
    /// `/items/:number/submissions`.
    ItemSubmissions (item_submissions_screen) => view! { <shell::Shell><pages::item::ItemPage section=pages::item::submissions_section/></shell::Shell> };
    /// `/items/:number/submissions/:kind`.
    ItemSubmission (item_submission_screen) => view! { <shell::Shell><pages::item::ItemPage section=pages::item::submission_section/></shell::Shell> };
    /// `/items/:number/difficulties`.
    ItemDifficulties (item_difficulties_screen) => view! { <shell::Shell><pages::item::ItemPage section=pages::item::difficulties_section/></shell::Shell> };
    /// `/items/:number/instructions`.
    ItemInstructions (item_instructions_screen) => view! { <shell::Shell><pages::item::ItemPage section=pages::item::instructions_section/></shell::Shell> };
    /// `/items/:number/evaluations`.
    ItemEvaluations (item_evaluations_screen) => view! { <shell::Shell><pages::item::ItemPage section=pages::item::evaluations_section/></shell::Shell> };
    /// `/items/:number/timeline`.
    ItemTimeline (item_timeline_screen) => view! { <shell::Shell><pages::item::ItemPage section=pages::item::timeline_section/></shell::Shell> };
    /// `/units`.
    Units (units_screen) => view! { <shell::Shell><pages::units::UnitsPage/></shell::Shell> };
    /// `/admin/users`.
    Accounts (accounts_screen) => view! { <shell::Shell><pages::accounts::AccountsPage/></shell::Shell> };
    /// `/admin/audit`.
    Audit (audit_screen) => view! { <shell::Shell><pages::audit::AuditPage/></shell::Shell> };
    /// `/supervision`.
    Supervision (supervision_screen) => view! { <shell::Shell><office::supervision::SupervisionPage/></shell::Shell> };
    /// `/notices`.
    Notices (notices_screen) => view! { <shell::Shell><office::notices::NoticesPage/></shell::Shell> };
    /// `/bulletins`.
    Bulletins (bulletins_screen) => view! { <shell::Shell><office::bulletins::BulletinsPage/></shell::Shell> };
    /// `/bulletins/:id`.
    Bulletin (bulletin_screen) => view! { <shell::Shell><office::bulletins::BulletinPage/></shell::Shell> };
    /// `/timeline`.
    Timeline (timeline_screen) => view! { <shell::Shell><office::timeline::TimelinePage/></shell::Shell> };
    /// `/assessment`.
    Assessment (assessment_screen) => view! { <shell::Shell><office::assessment::AssessmentPage/></shell::Shell> };
    /// `/inspections`.
    Inspections (inspections_screen) => view! { <shell::Shell><office::inspections::InspectionsPage/></shell::Shell> };
}
