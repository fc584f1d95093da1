//! What each user holds at once in this process, bounded: open WebSockets, uploads being
//! received. Each costs the server a task and memory (or disk) for as long as it lasts, so one
//! account's script must not be able to open them without end.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

/// Per user: how many things are held, and how many bytes they reserve.
#[derive(Clone, Debug, Default)]
pub struct PerUser(Arc<Mutex<HashMap<String, (usize, u64)>>>);

/// Why nothing more could be taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Over {
    /// The user holds as many things as they may.
    Count,
    /// The bytes asked for don't fit in what is left.
    Bytes,
}

/// One thing a user holds, counted (with its bytes) until it is dropped.
#[derive(Debug)]
pub struct Held {
    per_user: PerUser,
    user: String,
    bytes: u64,
}

impl PerUser {
    /// One more thing for `user`, reserving `bytes`, unless they hold `max_count` things
    /// already or what they reserve would pass `max_bytes`.
    pub fn take(
        &self,
        user: &str,
        max_count: usize,
        bytes: u64,
        max_bytes: u64,
    ) -> Result<Held, Over> {
        let mut held = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let (count, reserved) = held.entry(user.to_string()).or_default();
        if *count >= max_count {
            return Err(Over::Count);
        }
        if reserved.saturating_add(bytes) > max_bytes {
            return Err(Over::Bytes);
        }
        *count += 1;
        *reserved += bytes;
        Ok(Held {
            per_user: self.clone(),
            user: user.to_string(),
            bytes,
        })
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        let mut held = self
            .per_user
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some((count, reserved)) = held.get_mut(&self.user) {
            *count = count.saturating_sub(1);
            *reserved = reserved.saturating_sub(self.bytes);
            if *count == 0 {
                held.remove(&self.user);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_holds_at_most_so_many_and_so_much_and_dropping_gives_it_back() {
        let per_user = PerUser::default();
        let a = per_user.take("u", 2, 60, 100).expect("first");
        assert_eq!(per_user.take("u", 2, 60, 100).err(), Some(Over::Bytes));
        let b = per_user.take("u", 2, 40, 100).expect("second");
        assert_eq!(per_user.take("u", 2, 0, 100).err(), Some(Over::Count));
        assert!(per_user.take("someone else", 2, 100, 100).is_ok());
        drop(a);
        assert!(per_user.take("u", 2, 60, 100).is_ok());
        drop(b);
    }
}
