//! First start: the seed plan, the built-in units, the administrator and (only when asked for)
//! the demo accounts.

use crate::auth::{password, users};
use crate::db::Db;
use crate::entity_store;
use crate::plan_import::{self, CPPCC_UNIT, LEADERS_UNIT, NPC_UNIT, OFFICE_UNIT};
use rand::Rng;
use shared::actor::Role;
use shared::ids::{ClientGroupId, ClientId, unit_id_for_name};
use shared::mutation::Mutation;
use shared::sync::{Outcome, PROTOCOL_VERSION, PendingMutation, PushRequest};
use shared::unit::UnitName;

/// Login name of the administrator created on first start.
pub const ADMIN_USERNAME: &str = "admin";
/// The one password of every demo account (demo mode is for trying the app, never for real data).
pub const DEMO_PASSWORD: &str = "demo1234";

/// What the operator needs to know after start-up.
#[derive(Debug, Default)]
pub struct Bootstrapped {
    /// The administrator's initial password, when the account was created just now.
    pub admin_password: Option<String>,
    /// Number of demo accounts created just now.
    pub demo_accounts_created: usize,
    /// The seed plan was imported just now.
    pub seed_imported: bool,
    /// Accounts disabled because they still had the demo password outside demo mode.
    pub demo_passwords_disabled: Vec<String>,
}

/// Prepares an empty or existing database for serving.
pub async fn run(db: &Db, demo: bool) -> anyhow::Result<Bootstrapped> {
    let mut out = Bootstrapped::default();
    if !plan_import::has_plan(&db.pool).await? {
        let parsed = shared::plan_text::parse(plan_import::SEED)
            .map_err(|e| anyhow::anyhow!("the embedded seed plan does not parse: {e}"))?;
        plan_import::import(db, &parsed).await?;
        out.seed_imported = true;
    }
    plan_import::ensure_builtin_units(db).await?;
    if users::by_username(&db.pool, ADMIN_USERNAME)
        .await?
        .is_none()
    {
        let password = if demo {
            DEMO_PASSWORD.to_string()
        } else {
            random_password()
        };
        let created = users::insert(
            &db.pool,
            users::NewUser {
                username: ADMIN_USERNAME,
                display_name: "综合办管理员",
                unit: unit_id_for_name(OFFICE_UNIT),
                role: Role::Office,
                password_hash: password::hash(&password)?,
                must_change_password: !demo,
            },
        )
        .await?;
        if created.is_some() {
            out.admin_password = Some(password);
        }
    }
    if demo {
        ensure_demo_members(db).await;
        out.demo_accounts_created = ensure_demo_accounts(db).await?;
    } else {
        out.demo_passwords_disabled = disable_demo_passwords(db).await?;
    }
    Ok(out)
}

/// Outside demo mode, disables every demo account (and the administrator) whose password is
/// still the published demo password: a database first served with `--demo` and then for real
/// would otherwise keep three dozen accounts anyone can sign in to. Answers their names. The
/// office re-enables an account from 账号管理 after setting a password, or an operator creates
/// one with `reformboard create-user`.
async fn disable_demo_passwords(db: &Db) -> anyhow::Result<Vec<String>> {
    // By name first (the accounts table, not the plan: nothing heavy at every start), and only
    // those checked against the demo password.
    let mut disabled = Vec::new();
    for user in users::all(&db.pool).await? {
        if user.disabled != 0
            || !is_demo_username(&user.username)
            || !password::verify(DEMO_PASSWORD, &user.password_hash)
        {
            continue;
        }
        let event = crate::audit::SecurityEvent {
            action: "user_disabled",
            subject: Some(&user.id),
            detail: Some("演示密码，非演示模式下停用 (demo password outside demo mode)".into()),
            ..Default::default()
        };
        let along = users::Along {
            end_sessions: true,
            audit: Some(crate::audit::security_event_row(event)),
            ..Default::default()
        };
        users::set_disabled(db, &user.id, true, along).await?;
        disabled.push(user.username);
    }
    Ok(disabled)
}

fn random_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::thread_rng();
    (0..14)
        .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
        .collect()
}

/// Whether `name` is one `demo_accounts` (or the first start) gives out.
fn is_demo_username(name: &str) -> bool {
    let numbered = |prefix: &str| {
        name.strip_prefix(prefix)
            .is_some_and(|n| n.len() == 2 && n.bytes().all(|b| b.is_ascii_digit()))
    };
    [ADMIN_USERNAME, "office", "leader", "npc", "cppcc"].contains(&name)
        || numbered(DEMO_UNIT_PREFIX)
        || numbered(DEMO_MEMBER_PREFIX)
}

/// The demo accounts of the plan's units are `unit01`, `unit02`, …
const DEMO_UNIT_PREFIX: &str = "unit";
/// … and of the street offices it does not name, `member01`, …
pub(crate) const DEMO_MEMBER_PREFIX: &str = "member";

/// The demo accounts: the office, a leader, 区人大, 区政协, one per unit of the plan (`unit01`,
/// `unit02`, … in the order the plan names them) and one per street office of 各街道办 the plan
/// does not name (`member01`, …).
pub async fn demo_accounts(
    db: &Db,
) -> anyhow::Result<Vec<(String, String, shared::ids::UnitId, Role)>> {
    let mut accounts = vec![
        (
            "office".to_string(),
            "综合办".to_string(),
            unit_id_for_name(OFFICE_UNIT),
            Role::Office,
        ),
        (
            "leader".to_string(),
            "区领导".to_string(),
            unit_id_for_name(LEADERS_UNIT),
            Role::Leader,
        ),
        (
            "npc".to_string(),
            "区人大".to_string(),
            unit_id_for_name(NPC_UNIT),
            Role::Supervisor,
        ),
        (
            "cppcc".to_string(),
            "区政协".to_string(),
            unit_id_for_name(CPPCC_UNIT),
            Role::Supervisor,
        ),
    ];
    let state = entity_store::load_all(&db.pool).await?;
    // Numbered in the order the plan names the units, the order of the units page, so the
    // login page's list of demo accounts reads like the plan.
    let units = state.plan_units();
    for (n, unit) in units.iter().enumerate() {
        accounts.push((
            format!("{DEMO_UNIT_PREFIX}{:02}", n + 1),
            unit.name.clone(),
            unit.id,
            Role::Unit,
        ));
    }
    // The demo's street offices the plan does not name, in a fixed order (units the office
    // adds later get their accounts on the accounts page).
    let members = DEMO_STREET_OFFICES
        .into_iter()
        .filter_map(|name| state.unit(unit_id_for_name(name)))
        .filter(|u| !u.in_plan);
    for (n, unit) in members.enumerate() {
        accounts.push((
            format!("{DEMO_MEMBER_PREFIX}{:02}", n + 1),
            unit.name.clone(),
            unit.id,
            Role::Unit,
        ));
    }
    Ok(accounts)
}

/// The demo's members of 各街道办: Yantian's four street offices (the plan itself names one).
pub const DEMO_STREET_OFFICES: [&str; 4] =
    ["沙头角街道办", "海山街道办", "盐田街道办", "梅沙街道办"];

/// Demo mode: makes the street offices members of 各街道办, as the office would (through the
/// one `apply`, as the system account), once per database: a member the office took out stays
/// out after a restart. A failure is logged; the demo still starts.
async fn ensure_demo_members(db: &Db) {
    if let Err(e) = add_demo_members(db).await {
        tracing::warn!(error = %format!("{e:#}"), "adding the demo's street offices");
    }
}

async fn add_demo_members(db: &Db) -> anyhow::Result<()> {
    let done: Option<String> =
        sqlx::query_scalar("SELECT value FROM meta WHERE key = 'demo_members'")
            .fetch_optional(&db.pool)
            .await?;
    if done.is_some() {
        return Ok(());
    }
    add_street_offices(db).await?;
    // Marked once they are in (or there is no 各街道办), so a failed attempt is made again.
    sqlx::query(
        "INSERT INTO meta (key, value) VALUES ('demo_members', '1') ON CONFLICT (key) DO NOTHING",
    )
    .execute(&db.pool)
    .await?;
    Ok(())
}

async fn add_street_offices(db: &Db) -> anyhow::Result<()> {
    let state = entity_store::load_all(&db.pool).await?;
    let Some(group) = state
        .units()
        .find(|u| u.kind == shared::unit::UnitKind::Group && u.name == "各街道办")
        .map(|u| u.id)
    else {
        return Ok(());
    };
    let at = shared::entity::Millis(crate::db::now_millis());
    let mutations: Vec<Mutation> = DEMO_STREET_OFFICES
        .into_iter()
        .filter_map(|name| UnitName::parse(name).ok())
        .filter_map(|name| shared::membership::join(&state, &name, group, at))
        .collect();
    if mutations.is_empty() {
        return Ok(());
    }
    let office = crate::reminder_job::system_actor(db).await?;
    let client = ClientId::new_v7();
    let req = PushRequest {
        protocol: PROTOCOL_VERSION,
        client_group: ClientGroupId::new_v7(),
        mutations: mutations
            .into_iter()
            .zip(1..)
            .map(|(mutation, id)| PendingMutation {
                client_id: client,
                id,
                mutation,
            })
            .collect(),
        retire: Default::default(),
    };
    let (res, _) = crate::sync::push::push(db, &office, &req, crate::sync::push::Times::Server)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    if let Some(r) = res.results.iter().find(|r| r.outcome != Outcome::Applied) {
        anyhow::bail!("{:?}", r.outcome);
    }
    Ok(())
}

async fn ensure_demo_accounts(db: &Db) -> anyhow::Result<usize> {
    let hash = password::hash(DEMO_PASSWORD)?;
    let mut created = 0;
    for (username, display_name, unit, role) in demo_accounts(db).await? {
        let new = users::NewUser {
            username: &username,
            display_name: &display_name,
            unit,
            role,
            password_hash: hash.clone(),
            must_change_password: false,
        };
        if users::insert(&db.pool, new).await?.is_some() {
            created += 1;
        }
    }
    Ok(created)
}
