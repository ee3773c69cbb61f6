//! A map with a size cap that evicts its oldest entry (counted) to make room.

use rustc_hash::FxHashMap;
use std::collections::VecDeque;
use std::hash::Hash;

pub struct Bounded<K, V> {
    map: FxHashMap<K, (V, u64)>,
    order: VecDeque<(K, u64)>,
    next_seq: u64,
    cap: usize,
    pub evicted: u64,
}

impl<K: Clone + Eq + Hash, V> Bounded<K, V> {
    pub fn new(cap: usize) -> Self {
        Bounded {
            map: FxHashMap::default(),
            order: VecDeque::new(),
            next_seq: 0,
            cap: cap.max(1),
            evicted: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn get(&self, k: &K) -> Option<&V> {
        self.map.get(k).map(|(v, _)| v)
    }

    pub fn get_mut(&mut self, k: &K) -> Option<&mut V> {
        self.map.get_mut(k).map(|(v, _)| v)
    }

    /// The entry under `k`, made with `make` (after evicting the oldest when full).
    pub fn entry(&mut self, k: K, make: impl FnOnce() -> V) -> &mut V {
        if !self.map.contains_key(&k) {
            while self.map.len() >= self.cap {
                let Some((old, seq)) = self.order.pop_front() else {
                    break;
                };
                if self.map.get(&old).is_some_and(|(_, s)| *s == seq) {
                    self.map.remove(&old);
                    self.evicted += 1;
                }
            }
            let seq = self.next_seq;
            self.next_seq += 1;
            self.order.push_back((k.clone(), seq));
            self.map.insert(k.clone(), (make(), seq));
        }
        &mut self.map.get_mut(&k).expect("just inserted").0
    }

    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.map.iter().map(|(k, (v, _))| (k, v))
    }

    pub fn keys(&self) -> Vec<K> {
        self.map.keys().cloned().collect()
    }

    pub fn retain(&mut self, mut keep: impl FnMut(&K, &mut V) -> bool) {
        self.map.retain(|k, (v, _)| keep(k, v));
        if self.order.len() > 2 * self.map.len() + 64 {
            let map = &self.map;
            self.order
                .retain(|(k, seq)| map.get(k).is_some_and(|(_, s)| s == seq));
        }
    }
}
