//! Who is acting: a user, their unit and their role.

use crate::ids::{UnitId, UserId};
use serde::{Deserialize, Serialize};

/// A user's role. The unit decides *which* items a unit user works on; the role decides *what*
/// kind of user they are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// 综合办公室: the reform office, administrator of everything.
    Office,
    /// A participating unit's staff (lead or cooperating depends on the item).
    Unit,
    /// 区领导: a district leader.
    Leader,
    /// 区人大 / 区政协: inspects and evaluates.
    Supervisor,
}

impl Role {
    /// All roles.
    pub const ALL: [Role; 4] = [Role::Office, Role::Unit, Role::Leader, Role::Supervisor];

    /// Whether users of this role own and work tasks, and so have a 我的任务: only a unit's
    /// staff (`permission::check`, `Action::WorkOnTask`). The office, leaders and the People's
    /// Congress and CPPCC own none.
    pub fn owns_tasks(self) -> bool {
        self == Role::Unit
    }

    /// Whether users of this role read 督查 (supervision): the office, and the leaders who
    /// oversee it. Only the office acts there (`PlanAction::Supervise`).
    pub fn reads_supervision(self) -> bool {
        matches!(self, Role::Office | Role::Leader)
    }

    /// Stable name, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Office => "office",
            Role::Unit => "unit",
            Role::Leader => "leader",
            Role::Supervisor => "supervisor",
        }
    }

    /// The role with this stored name.
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Name in Chinese.
    pub fn zh(self) -> &'static str {
        match self {
            Role::Office => "综合办",
            Role::Unit => "单位",
            Role::Leader => "区领导",
            Role::Supervisor => "人大/政协",
        }
    }

    /// Name in English.
    pub fn en(self) -> &'static str {
        match self {
            Role::Office => "Reform office",
            Role::Unit => "Unit staff",
            Role::Leader => "Leader",
            Role::Supervisor => "NPC / CPPCC",
        }
    }
}

/// The signed-in user a change is made by.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// The user.
    pub user: UserId,
    /// Display name.
    pub name: String,
    /// Their unit.
    pub unit: UnitId,
    /// Their role.
    pub role: Role,
    /// The group units their unit is a member of, as the state says (`Actor::in_state`; empty
    /// until then).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<UnitId>,
}

impl Actor {
    /// This actor with their unit's group memberships as `state` records them: what every
    /// permission check goes by (`mutation::apply` asks for it first).
    pub fn in_state(&self, state: &crate::state::State) -> Actor {
        Actor {
            groups: state.groups_of(self.unit).to_vec(),
            ..self.clone()
        }
    }
}
