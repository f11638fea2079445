//! Undo and redo over whole plans. Dragging a slider fires dozens of edits a second; edits
//! with the same key in quick succession make one step, so one Ctrl+Z undoes one drag.

/// Edits of one control closer together than this are one undo step.
pub const COALESCE_MS: f64 = 1000.0;
/// The oldest steps are dropped past this many.
pub const DEPTH: usize = 200;

#[derive(Debug, Clone, PartialEq)]
pub struct History<T> {
    past: Vec<T>,
    future: Vec<T>,
    last: Option<(String, f64)>,
}

impl<T> Default for History<T> {
    fn default() -> Self {
        History { past: Vec::new(), future: Vec::new(), last: None }
    }
}

impl<T> History<T> {
    /// Remember the state before an edit. `key` names the control; `now` is in milliseconds.
    pub fn record(&mut self, before: T, key: &str, now: f64) {
        let coalesce = matches!(&self.last, Some((k, at)) if k == key && now - at < COALESCE_MS);
        self.last = Some((key.to_string(), now));
        if coalesce {
            return;
        }
        self.past.push(before);
        if self.past.len() > DEPTH {
            self.past.remove(0);
        }
        self.future.clear();
    }

    pub fn undo(&mut self, current: T) -> Option<T> {
        let previous = self.past.pop()?;
        self.future.push(current);
        self.last = None;
        Some(previous)
    }

    pub fn redo(&mut self, current: T) -> Option<T> {
        let next = self.future.pop()?;
        self.past.push(current);
        self.last = None;
        Some(next)
    }

    pub fn can_undo(&self) -> bool {
        !self.past.is_empty()
    }

    pub fn can_redo(&self) -> bool {
        !self.future.is_empty()
    }
}
