//! A YAML document as a small tree that remembers lines, built from saphyr-parser's events.
//! Aliases are not followed (no billion laughs), nesting stops at a fixed depth, and on a
//! syntax error what was read up to it is kept.

use saphyr_parser::{Event, Parser};

/// Deeper than any values.yaml; keeps the tree (and dropping it) small.
const MAX_DEPTH: usize = 64;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node {
    Scalar { value: String, line: usize },
    Seq { items: Vec<Node>, line: usize },
    /// (key, line of the key, value)
    Map { entries: Vec<(String, usize, Node)>, line: usize },
    /// An alias, or a value that could not be kept.
    Null { line: usize },
}

impl Node {
    pub fn line(&self) -> usize {
        match self {
            Node::Scalar { line, .. } | Node::Seq { line, .. } | Node::Map { line, .. } | Node::Null { line } => *line,
        }
    }

    /// The last entry of a key (YAML says keys are unique; when they are not, the last wins).
    pub fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Map { entries, .. } => entries.iter().rev().find(|(k, _, _)| k == key).map(|(_, _, v)| v),
            _ => None,
        }
    }

    pub fn path(&self, keys: &[&str]) -> Option<&Node> {
        keys.iter().try_fold(self, |node, k| node.get(k))
    }

    pub fn scalar(&self) -> Option<&str> {
        match self {
            Node::Scalar { value, .. } => Some(value),
            _ => None,
        }
    }

    /// Whether a scalar is YAML's null: empty, `~` or `null`.
    pub fn is_null(&self) -> bool {
        match self {
            Node::Null { .. } => true,
            Node::Scalar { value, .. } => matches!(value.as_str(), "" | "~" | "null" | "Null" | "NULL"),
            _ => false,
        }
    }
}

enum Frame {
    Seq { items: Vec<Node>, line: usize },
    Map { entries: Vec<(String, usize, Node)>, line: usize, key: Option<(String, usize)> },
}

impl Frame {
    fn close(self) -> Node {
        match self {
            Frame::Seq { items, line } => Node::Seq { items, line },
            Frame::Map { entries, line, .. } => Node::Map { entries, line },
        }
    }
}

/// The first document of `text`, and (line, message) for what could not be read.
pub(crate) fn parse(text: &str) -> (Option<Node>, Vec<(usize, String)>) {
    let mut notes = Vec::new();
    let mut stack: Vec<Frame> = Vec::new();
    let mut root: Option<Node> = None;
    let mut alias_noted = false;
    let mut complex_key_noted = false;

    fn attach(stack: &mut [Frame], root: &mut Option<Node>, node: Node, complex_key_noted: &mut bool, notes: &mut Vec<(usize, String)>) {
        match stack.last_mut() {
            None => {
                if root.is_none() {
                    *root = Some(node);
                }
            }
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map { entries, key, .. }) => match key.take() {
                Some((k, line)) => entries.push((k, line, node)),
                None => {
                    let line = node.line();
                    match node {
                        Node::Scalar { value, line } => *key = Some((value, line)),
                        _ => {
                            if !*complex_key_noted {
                                notes.push((line, "a key that is not plain text is not read".into()));
                                *complex_key_noted = true;
                            }
                            *key = Some((String::new(), line));
                        }
                    }
                }
            },
        }
    }

    for item in Parser::new_from_str(text) {
        let (event, span) = match item {
            Ok(v) => v,
            Err(e) => {
                notes.push((e.marker().line().max(1), format!("YAML syntax error: {}", super::text::clean(e.info(), 100))));
                break;
            }
        };
        let line = span.start.line().max(1);
        match event {
            Event::DocumentStart(_) if root.is_some() => {
                notes.push((line, "only the first YAML document is read".into()));
                break;
            }
            Event::Scalar(value, ..) => {
                attach(&mut stack, &mut root, Node::Scalar { value: value.into_owned(), line }, &mut complex_key_noted, &mut notes)
            }
            Event::Alias(_) => {
                if !alias_noted {
                    notes.push((line, "aliases (*name) are not followed".into()));
                    alias_noted = true;
                }
                attach(&mut stack, &mut root, Node::Null { line }, &mut complex_key_noted, &mut notes)
            }
            Event::SequenceStart(..) | Event::MappingStart(..) => {
                if stack.len() >= MAX_DEPTH {
                    notes.push((line, format!("nested more than {MAX_DEPTH} levels deep: the rest is not read")));
                    break;
                }
                stack.push(if matches!(event, Event::SequenceStart(..)) {
                    Frame::Seq { items: Vec::new(), line }
                } else {
                    Frame::Map { entries: Vec::new(), line, key: None }
                });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                if let Some(frame) = stack.pop() {
                    let node = frame.close();
                    attach(&mut stack, &mut root, node, &mut complex_key_noted, &mut notes);
                }
            }
            Event::StreamEnd => break,
            _ => {}
        }
    }
    // Keep what was read before an error.
    while let Some(frame) = stack.pop() {
        let node = frame.close();
        attach(&mut stack, &mut root, node, &mut complex_key_noted, &mut notes);
    }
    (root, notes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_paths() {
        let (root, notes) = parse("a:\n  b: 3\n  c:\n    - x\n    - y\n");
        assert!(notes.is_empty());
        let root = root.unwrap();
        assert_eq!(root.path(&["a", "b"]).unwrap().scalar(), Some("3"));
        assert_eq!(root.path(&["a", "b"]).unwrap().line(), 2);
        match root.path(&["a", "c"]).unwrap() {
            Node::Seq { items, .. } => assert_eq!(items[1].line(), 5),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn error_keeps_what_came_before() {
        let (root, notes) = parse("a:\n  b: 3\n  c: [1, 2\nd: 4\n");
        assert!(!notes.is_empty());
        assert_eq!(root.unwrap().path(&["a", "b"]).unwrap().scalar(), Some("3"));
    }

    #[test]
    fn deep_nesting_stops() {
        let text = "[".repeat(10_000);
        let (_, notes) = parse(&text);
        assert!(!notes.is_empty());
    }
}
