//! Range checks for config values, collected so one run reports every problem at once.

use std::fmt::Display;

#[derive(Default)]
pub struct Problems(Vec<(String, String)>);

impl Problems {
    pub fn add(&mut self, key: &str, reason: impl Into<String>) {
        self.0.push((key.to_string(), reason.into()));
    }

    pub fn range<T: PartialOrd + Display>(&mut self, key: &str, value: T, lo: T, hi: T) {
        if value < lo || value > hi {
            self.add(key, format!("must be between {lo} and {hi}, got {value}"));
        }
    }

    pub fn into_vec(self) -> Vec<(String, String)> {
        self.0
    }
}
