//! The report workflow as the server takes it (起草 → 审核 → 发布): the store's transition and, on
//! publication, the public portal's cache dropped so the new version shows from the next request.

use crate::store::{self, Action, Version};
use qcity_platform::audit::Actor;
use qcity_platform::store::StoreError;
use qcity_platform::web::AppState;

/// Moves a version along the workflow (see [`store::transition`]).
pub async fn transition(
    st: &AppState,
    actor: &Actor,
    city_id: i64,
    id: i64,
    action: Action,
    may_publish: bool,
) -> Result<Version, StoreError> {
    let v = store::transition(&st.db, actor, city_id, id, action, may_publish).await?;
    if action == Action::Publish {
        crate::cache::invalidate(st);
    }
    Ok(v)
}
