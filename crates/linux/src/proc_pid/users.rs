//! uid → user name through the system user database (NSS via `uzers`), cached because a
//! fork storm asks for the same few uids thousands of times.

use std::collections::HashMap;

/// Most uids remembered; the cache starts over beyond this rather than grow.
const MAX_CACHED: usize = 4096;

#[derive(Debug, Default)]
pub struct UserNames {
    cache: HashMap<u32, Option<String>>,
}

impl UserNames {
    pub fn new() -> UserNames {
        UserNames::default()
    }

    /// The user's name, or None when the database has no entry for `uid`.
    pub fn name(&mut self, uid: u32) -> Option<String> {
        if let Some(hit) = self.cache.get(&uid) {
            return hit.clone();
        }
        if self.cache.len() >= MAX_CACHED {
            self.cache.clear();
        }
        let name = uzers::get_user_by_uid(uid).map(|u| u.name().to_string_lossy().into_owned());
        self.cache.insert(uid, name.clone());
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_is_named_from_the_user_database_and_an_unknown_uid_is_none() {
        let mut users = UserNames::new();
        assert_eq!(users.name(0).as_deref(), Some("root"));
        assert_eq!(users.name(0).as_deref(), Some("root"), "cached");
        assert_eq!(users.name(3_999_999_999), None);
    }
}
