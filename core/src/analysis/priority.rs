//! The priority scale: which priority names are how severe, and the weight each gives a bug
//! in the decayed bug score and the open load.
//!
//! JIRA Server ships Blocker, Critical, Major, Minor, Trivial; Cloud ships Highest, High,
//! Medium, Low, Lowest. Both map onto five ranks with weights 8, 4, 2, 1, 0.5: each step
//! halves the weight, so one Blocker counts like four Majors. A custom order
//! (`Params::priority_order`) is spread geometrically over the same 8 to 0.5 range and takes
//! precedence over the built-in names. A bug without a priority, or with a name on neither
//! scale, gets the middle weight 2.

use super::report::PriorityWeight;

/// Weights of the five built-in ranks, most severe first.
pub const RANK_WEIGHTS: [f64; 5] = [8.0, 4.0, 2.0, 1.0, 0.5];
/// Weight of a bug whose priority is unknown or off the scale.
pub const MIDDLE_WEIGHT: f64 = 2.0;
/// Name of the bucket of bugs without a priority.
pub const UNKNOWN: &str = "Unknown";

/// Built-in names by rank: Server name, then Cloud name.
const BUILT_IN: [[&str; 2]; 5] = [
    ["Blocker", "Highest"],
    ["Critical", "High"],
    ["Major", "Medium"],
    ["Minor", "Low"],
    ["Trivial", "Lowest"],
];

/// Where a priority sits when priorities are listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Placement {
    /// In the caller's own order, at this position.
    Custom(usize),
    /// On the built-in scale: rank, then Server (0) or Cloud (1) name.
    BuiltIn(usize, usize),
    /// On no scale: listed after the scale, by name.
    OffScale,
    /// No priority at all: listed last.
    Unknown,
}

/// One priority known to the analysis.
#[derive(Debug, Clone, PartialEq)]
pub struct Priority {
    /// Name as shown in the report.
    pub name: String,
    /// Severity weight.
    pub weight: f64,
    /// True for the two most severe steps of the scale in use.
    pub top: bool,
    /// Listing position.
    pub placement: Placement,
}

/// The scale in use, before any data is seen.
#[derive(Debug, Clone)]
pub struct Scale {
    /// Scale entries with their lowercase names, in listing order.
    entries: Vec<(String, Priority)>,
}

impl Scale {
    /// The built-in scales, preceded by `custom_order` when given.
    pub fn new(custom_order: &[String]) -> Self {
        let mut entries: Vec<(String, Priority)> = Vec::new();
        let count = custom_order.len();
        for (position, name) in custom_order.iter().enumerate() {
            let lower = name.trim().to_lowercase();
            if lower.is_empty() || entries.iter().any(|(known, _)| *known == lower) {
                continue;
            }
            let weight = spread_weight(position, count);
            let placement = Placement::Custom(position);
            let priority =
                Priority { name: name.trim().to_string(), weight, top: position < 2, placement };
            entries.push((lower, priority));
        }
        for (rank, names) in BUILT_IN.iter().enumerate() {
            for (flavour, name) in names.iter().enumerate() {
                let lower = name.to_lowercase();
                if entries.iter().any(|(known, _)| *known == lower) {
                    continue;
                }
                let placement = Placement::BuiltIn(rank, flavour);
                let weight = RANK_WEIGHTS[rank];
                let priority =
                    Priority { name: name.to_string(), weight, top: rank < 2, placement };
                entries.push((lower, priority));
            }
        }
        Scale { entries }
    }

    /// The priority for a lowercase name: its scale entry, or an off-scale entry with the
    /// middle weight.
    pub fn lookup(&self, lower: &str, spelling: &str) -> Priority {
        match self.entries.iter().find(|(known, _)| known == lower) {
            Some((_, priority)) => priority.clone(),
            None => Priority {
                name: spelling.trim().to_string(),
                weight: MIDDLE_WEIGHT,
                top: false,
                placement: Placement::OffScale,
            },
        }
    }

    /// The entry for bugs without a priority.
    pub fn unknown() -> Priority {
        Priority {
            name: UNKNOWN.to_string(),
            weight: MIDDLE_WEIGHT,
            top: false,
            placement: Placement::Unknown,
        }
    }

    /// The scale as echoed in the report: scale entries in order, then the off-scale names
    /// seen in the data (`off_scale`, sorted by name), then `Unknown`.
    pub fn echo(&self, off_scale: &[&Priority]) -> Vec<PriorityWeight> {
        let on_scale = self.entries.iter().map(|(_, priority)| priority);
        on_scale
            .chain(off_scale.iter().copied())
            .map(|p| PriorityWeight { priority: p.name.clone(), weight: p.weight })
            .chain(std::iter::once(PriorityWeight {
                priority: UNKNOWN.to_string(),
                weight: MIDDLE_WEIGHT,
            }))
            .collect()
    }
}

/// Weight of position `position` of `count` custom priorities: geometric from 8 down to 0.5,
/// the middle weight when there is only one.
fn spread_weight(position: usize, count: usize) -> f64 {
    if count < 2 {
        return MIDDLE_WEIGHT;
    }
    let (first, last) = (RANK_WEIGHTS[0], RANK_WEIGHTS[4]);
    first * (last / first).powf(position as f64 / (count - 1) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_names_map_to_ranks_by_name_without_case() {
        let scale = Scale::new(&[]);
        assert_eq!(scale.lookup("blocker", "blocker").weight, 8.0);
        assert_eq!(scale.lookup("highest", "HIGHEST").weight, 8.0);
        assert_eq!(scale.lookup("medium", "Medium").weight, 2.0);
        assert_eq!(scale.lookup("lowest", "Lowest").weight, 0.5);
        assert!(scale.lookup("high", "High").top);
        assert!(!scale.lookup("major", "Major").top);
        let odd = scale.lookup("p1", "P1");
        assert_eq!((odd.weight, odd.placement), (2.0, Placement::OffScale));
    }

    #[test]
    fn custom_order_spreads_weights_over_the_same_range() {
        let order = ["P1", "P2", "P3"].map(String::from);
        let scale = Scale::new(&order);
        assert_eq!(scale.lookup("p1", "P1").weight, 8.0);
        assert!((scale.lookup("p2", "P2").weight - 2.0).abs() < 1e-12);
        assert!((scale.lookup("p3", "P3").weight - 0.5).abs() < 1e-12);
        assert!(scale.lookup("p2", "P2").top);
        assert!(!scale.lookup("p3", "P3").top);
        // Built-in names still apply to names the custom order does not mention.
        assert_eq!(scale.lookup("critical", "Critical").weight, 4.0);
    }
}
