//! Read-only plan endpoints for consumers that don't sync (scripts, checks): `GET /api/plan`.

use crate::app::AppState;
use crate::auth::session::ActiveUser;
use crate::entity_store;
use crate::error::{ApiJson, ApiResult};
use axum::Router;
use axum::extract::State;
use axum::routing::get;
use serde::Serialize;
use shared::ids::UnitId;
use shared::state::State as EntityState;
use shared::unit::UnitKind;

/// Routes.
pub fn routes() -> Router<AppState> {
    Router::new().route("/plan", get(plan))
}

/// The plan as a document: items with their units by name, and the unit directory.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PlanView {
    title: String,
    issuers: Vec<String>,
    issue_date: Option<chrono::NaiveDate>,
    items: Vec<ItemView>,
    units: Vec<UnitView>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
struct ItemView {
    number: u32,
    title: String,
    lead_units: Vec<String>,
    cooperating_units: Vec<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
struct UnitView {
    name: String,
    aliases: Vec<String>,
    kind: UnitKind,
    leads: Vec<u32>,
    cooperates: Vec<u32>,
}

/// Builds the view from stored entities.
pub fn view(state: &EntityState) -> PlanView {
    let name = |id: &UnitId| state.unit(*id).map(|u| u.name.clone()).unwrap_or_default();
    let items = state.items();
    let mut units: Vec<UnitView> = state
        .units()
        .filter(|u| u.in_plan)
        .map(|u| UnitView {
            name: u.name.clone(),
            aliases: u.aliases.clone(),
            kind: u.kind,
            leads: items
                .iter()
                .filter(|i| i.lead_units.contains(&u.id))
                .map(|i| i.number)
                .collect(),
            cooperates: items
                .iter()
                .filter(|i| i.cooperating_units.contains(&u.id))
                .map(|i| i.number)
                .collect(),
        })
        .collect();
    units.sort_by(|a, b| a.name.cmp(&b.name));
    let plan = state.plan();
    PlanView {
        title: plan.map(|p| p.title.clone()).unwrap_or_default(),
        issuers: plan.map(|p| p.issuers.clone()).unwrap_or_default(),
        issue_date: plan.and_then(|p| p.issue_date),
        items: items
            .iter()
            .map(|i| ItemView {
                number: i.number,
                title: i.title.clone(),
                lead_units: i.lead_units.iter().map(name).collect(),
                cooperating_units: i.cooperating_units.iter().map(name).collect(),
            })
            .collect(),
        units,
    }
}

#[utoipa::path(get, path = "/api/plan", tag = "plan", responses((status = 200, body = PlanView)))]
pub(crate) async fn plan(
    State(state): State<AppState>,
    _user: ActiveUser,
) -> ApiResult<ApiJson<PlanView>> {
    let entities = entity_store::load_all(&state.db.pool).await?;
    Ok(ApiJson(view(&entities)))
}
