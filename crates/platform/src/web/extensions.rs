//! Per-server state that modules keep beside [`AppState`](super::AppState): one value per type
//! (a module's writer task, a cache …), created on first use and dropped with the server state,
//! so two servers in one process (tests) never share it.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// A map from type to one shared value of that type.
#[derive(Default)]
pub struct Extensions {
    values: Mutex<HashMap<TypeId, Arc<dyn Any + Send + Sync>>>,
}

impl Extensions {
    /// The value of type `T`, made by `init` the first time it is asked for.
    pub fn get_or_init<T: Any + Send + Sync>(&self, init: impl FnOnce() -> T) -> Arc<T> {
        let mut map = self.values.lock().unwrap_or_else(|p| p.into_inner());
        let value = map
            .entry(TypeId::of::<T>())
            .or_insert_with(|| Arc::new(init()) as Arc<dyn Any + Send + Sync>)
            .clone();
        drop(map);
        match value.downcast::<T>() {
            Ok(v) => v,
            // The map is keyed by the value's own TypeId: the downcast cannot fail.
            Err(_) => unreachable!("extension stored under another type's id"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_value_per_type_made_once() {
        let ext = Extensions::default();
        let a = ext.get_or_init(|| 7_u32);
        let b = ext.get_or_init(|| 9_u32);
        assert_eq!((*a, *b), (7, 7));
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(*ext.get_or_init(|| String::from("x")), "x");
        let other = Extensions::default();
        assert_eq!(
            *other.get_or_init(|| 9_u32),
            9,
            "separate servers keep separate values"
        );
    }
}
