//! uid → user name, looked up once per uid and cached (the passwd database rarely
//! changes, and a lookup can be slow under NSS).

use nix::unistd::{Uid, User};
use std::collections::HashMap;

#[derive(Debug, Default)]
pub struct UserCache {
    names: HashMap<u32, String>,
}

impl UserCache {
    pub fn new() -> UserCache {
        UserCache::default()
    }

    /// The user's name, or the number itself when the uid has no passwd entry (as ps
    /// shows it).
    pub fn name(&mut self, uid: u32) -> &str {
        self.names
            .entry(uid)
            .or_insert_with(|| match User::from_uid(Uid::from_raw(uid)) {
                Ok(Some(u)) => u.name,
                _ => uid.to_string(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_is_named_and_an_unknown_uid_is_its_number() {
        let mut c = UserCache::new();
        assert_eq!(c.name(0), "root");
        assert_eq!(c.name(3_999_999_999), "3999999999");
    }
}
