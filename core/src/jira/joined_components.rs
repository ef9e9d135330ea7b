//! Components cells that join several component names with spaces, as research datasets
//! do (`clients core`, `admin config controller core`), while a single name may hold a
//! space itself (`system tests`).
//!
//! Nothing in one cell tells a join from a name, so the file's own cells decide. Its
//! **vocabulary** is every components value that stands alone in some row, except those
//! that are joins of others: a value is a join when its words can be covered, in order, by
//! other values of the file and single words, at least one of them such a value (`clients
//! core` is `clients` + `core`; `system tests` stays a name when neither word stands alone).
//!
//! A cell that is in the vocabulary stays whole; any other is cut from left to right into
//! the longest run of words that is in the vocabulary, else into a single word.

use std::collections::HashSet;

use crate::model::Issue;

/// The component names a file uses alone, against which joined cells are cut.
#[derive(Debug, Default)]
pub(super) struct Vocabulary {
    names: HashSet<String>,
}

impl Vocabulary {
    /// The vocabulary of a file whose components values (cells, or the parts of a cell
    /// split on commas) are `values`.
    pub(super) fn from_values<'a>(values: impl IntoIterator<Item = &'a str>) -> Self {
        let seen: HashSet<String> =
            values.into_iter().map(words).filter(|v| !v.is_empty()).collect();
        let names = seen.iter().filter(|value| !is_join(value, &seen)).cloned().collect();
        Vocabulary { names }
    }

    /// The component names in one space-joined cell, in order, without repeats.
    pub(super) fn split(&self, cell: &str) -> Vec<String> {
        let cell = words(cell);
        if cell.is_empty() {
            return Vec::new();
        }
        if self.names.contains(&cell) {
            return vec![cell];
        }
        let tokens: Vec<&str> = cell.split(' ').collect();
        let mut names: Vec<String> = Vec::new();
        let mut start = 0;
        while start < tokens.len() {
            let end = (start + 1..=tokens.len())
                .rev()
                .find(|&end| self.names.contains(&tokens[start..end].join(" ")))
                .unwrap_or(start + 1);
            let name = tokens[start..end].join(" ");
            if !names.contains(&name) {
                names.push(name);
            }
            start = end;
        }
        names
    }
}

impl Vocabulary {
    /// Cuts the components of an issue whose components cell held spaces and no comma.
    pub(super) fn cut(&self, issue: &mut Issue) {
        let mut names: Vec<crate::model::Text> = Vec::new();
        for name in issue.components.iter().flat_map(|cell| self.split(cell)) {
            if !names.iter().any(|seen| seen.as_ref() == name) {
                names.push(name.into());
            }
        }
        issue.components = names.into_boxed_slice();
    }
}

/// The words of a value joined by single spaces, so `producer  security` (two spaces, as
/// the Kafka dataset has it) meets `producer security`.
fn words(value: &str) -> String {
    value.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// True when `value` is other values of `seen` (and lone words) written one after another.
fn is_join(value: &str, seen: &HashSet<String>) -> bool {
    let tokens: Vec<&str> = value.split(' ').collect();
    // How the first `i` words can be covered: not at all, by lone words only, or using at
    // least one other value of the file.
    #[derive(Clone, Copy, PartialEq, PartialOrd)]
    enum Cover {
        None,
        WordsOnly,
        WithValue,
    }
    let mut cover = vec![Cover::None; tokens.len() + 1];
    cover[0] = Cover::WordsOnly;
    for start in 0..tokens.len() {
        if cover[start] == Cover::None {
            continue;
        }
        for end in start + 1..=tokens.len() {
            let part = tokens[start..end].join(" ");
            if part != value && seen.contains(&part) {
                cover[end] = Cover::WithValue;
            } else if end == start + 1 && cover[end] < cover[start] {
                cover[end] = cover[start];
            }
        }
    }
    tokens.len() > 1 && cover[tokens.len()] == Cover::WithValue
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_whose_words_never_stand_alone_is_kept_whole() {
        let vocabulary = Vocabulary::from_values(["core", "system tests", "core system tests"]);

        assert_eq!(vocabulary.split("system tests"), ["system tests"]);
        assert_eq!(vocabulary.split("core system tests"), ["core", "system tests"]);
        assert_eq!(vocabulary.split("core  other"), ["core", "other"]);
    }
}
