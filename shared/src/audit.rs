//! The audit trail (留痕) as the API shows it: one record per changed entity and per security
//! event, and the names of the actions in Chinese and English.

use serde::{Deserialize, Serialize};

/// One audit record (`GET /api/audit`, `GET /api/history/{key}`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditRecord {
    /// Row id.
    pub id: String,
    /// When (server time, ms since the Unix epoch).
    pub at: i64,
    /// Acting user's id (None for the system, or a failed login).
    pub user_id: Option<String>,
    /// Acting user's name, as `姓名（用户名）`.
    #[serde(default)]
    pub user_name: Option<String>,
    /// Acting user's unit id.
    pub unit_id: Option<String>,
    /// Acting user's unit name.
    #[serde(default)]
    pub unit_name: Option<String>,
    /// What happened: a mutation name (`move_task`) or a security event (`login_failed`).
    pub action: String,
    /// The entity it happened to (`task/…`, `user/…`).
    pub entity: Option<String>,
    /// What a person calls that entity: a task's title, an item's number and title, a username.
    #[serde(default)]
    pub entity_name: Option<String>,
    /// The same in English, where it differs (the words around a title: "instruction by …").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity_name_en: Option<String>,
    /// Before (JSON of the entity).
    pub before: Option<String>,
    /// After (JSON of the entity).
    pub after: Option<String>,
    /// Free text: a target username, the client's address, …
    pub detail: Option<String>,
}

/// Security events written by the server (their `action`).
pub const SECURITY_ACTIONS: [&str; 15] = [
    "login",
    "login_failed",
    "login_throttled",
    "logout",
    "logout_everywhere",
    "password_changed",
    "password_change_failed",
    "password_reset",
    "user_created",
    "user_disabled",
    "user_enabled",
    "role_changed",
    "session_expired",
    "email_changed",
    "change_refused",
];

/// Every action with its Chinese and English name, security events first, then board changes.
pub const ACTIONS: &[(&str, &str, &str)] = &[
    ("login", "登录", "Signed in"),
    ("login_failed", "登录失败", "Sign-in failed"),
    (
        "login_throttled",
        "登录尝试过多被拒绝",
        "Sign-in refused: too many attempts",
    ),
    ("logout", "退出登录", "Signed out"),
    ("logout_everywhere", "退出所有设备", "Signed out everywhere"),
    ("password_changed", "修改密码", "Password changed"),
    (
        "password_change_failed",
        "修改密码失败（原密码不正确）",
        "Password change failed (wrong password)",
    ),
    ("password_reset", "重置密码", "Password reset"),
    ("user_created", "新建账号", "Account created"),
    ("user_disabled", "停用账号", "Account disabled"),
    ("user_enabled", "启用账号", "Account enabled"),
    ("role_changed", "变更角色或单位", "Role or unit changed"),
    ("session_expired", "会话过期", "Session expired"),
    (
        "email_changed",
        "修改通知邮箱",
        "Notification e-mail changed",
    ),
    (
        "change_refused",
        "更改被拒绝（无权限或已失效）",
        "Change refused (not allowed or out of date)",
    ),
    ("import_plan", "导入改革计划", "Plan imported"),
    ("create_unit", "新建单位", "Unit created"),
    ("create_task", "分解任务", "Task created"),
    ("set_task_title", "修改任务名称", "Task retitled"),
    ("set_task_notes", "修改任务说明", "Task notes edited"),
    ("set_task_due", "修改完成时限", "Due date changed"),
    ("set_task_progress", "更新进度", "Progress reported"),
    ("assign_task", "指派任务", "Task assigned"),
    ("move_task", "移动任务", "Task moved"),
    ("set_task_blocked", "标记受阻", "Blocked flag changed"),
    ("archive_task", "归档任务", "Task archived"),
    ("restore_task", "恢复任务", "Task restored"),
    ("add_step", "添加步骤", "Step added"),
    ("tick_step", "勾选步骤", "Step ticked"),
    ("rename_step", "修改步骤", "Step reworded"),
    ("move_step", "调整步骤顺序", "Step reordered"),
    ("remove_step", "删除步骤", "Step removed"),
    ("add_comment", "发表意见", "Comment added"),
    ("set_calendar", "设置报送日程", "Calendar set"),
    ("save_submission", "保存草稿", "Draft saved"),
    ("submit_submission", "报送", "Submitted"),
    ("review_submission", "审核报送材料", "Submission reviewed"),
    ("raise_difficulty", "反映困难和问题", "Difficulty raised"),
    (
        "coordinate_difficulty",
        "协调困难和问题",
        "Difficulty coordinated",
    ),
    (
        "resolve_difficulty",
        "解决困难和问题",
        "Difficulty resolved",
    ),
    ("write_instruction", "作出批示", "Instruction written"),
    ("respond_instruction", "回复批示", "Instruction answered"),
    ("record_evaluation", "记录评议", "Evaluation recorded"),
    ("publish_evaluation", "发布评议", "Evaluation published"),
    ("record_inspection", "记录视察", "Inspection recorded"),
    ("send_reminder", "催办", "Reminder sent"),
    ("save_bulletin", "保存通报", "Bulletin saved"),
    ("publish_bulletin", "发布通报", "Bulletin published"),
    ("read_bulletin", "阅读通报", "Bulletin read"),
    ("attach_file", "上传佐证材料", "Evidence attached"),
    ("remove_attachment", "删除佐证材料", "Evidence removed"),
    ("adjust_assessment", "调整考核分", "Score adjusted"),
    ("mark_notices_read", "标记通知已读", "Notices marked read"),
    ("add_unit", "添加单位", "Unit added"),
    (
        "set_membership",
        "调整单位组成员",
        "Group membership changed",
    ),
    ("request_postponement", "申请延期", "Postponement requested"),
    (
        "decide_postponement",
        "审批延期申请",
        "Postponement decided",
    ),
    ("set_settings", "修改设置", "Settings changed"),
];

/// The Chinese name of `action`, or the action itself when it has none yet.
pub fn action_zh(action: &str) -> &str {
    ACTIONS
        .iter()
        .find(|a| a.0 == action)
        .map_or(action, |a| a.1)
}

/// The English name of `action`, or the action itself when it has none yet.
pub fn action_en(action: &str) -> &str {
    ACTIONS
        .iter()
        .find(|a| a.0 == action)
        .map_or(action, |a| a.2)
}

/// Whether `action` is a security event rather than a board change.
pub fn is_security_event(action: &str) -> bool {
    SECURITY_ACTIONS.contains(&action)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_security_event_has_names() {
        for a in SECURITY_ACTIONS {
            assert_ne!(action_zh(a), a, "{a} has no Chinese name");
            assert_ne!(action_en(a), a, "{a} has no English name");
        }
        assert_eq!(action_zh("no_such_thing"), "no_such_thing");
    }
}
