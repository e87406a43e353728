use std::collections::BTreeMap;

use crate::histogram::Histogram;

/// A monotonically increasing counter.
#[derive(Debug, Default, Clone)]
pub struct Counter {
    value: u64,
}

impl Counter {
    pub fn inc_by(&mut self, n: u64) {
        self.value += n;
    }

    pub fn get(&self) -> u64 {
        self.value
    }
}

/// Registry holds every metric by name, sorted.
#[derive(Debug, Default)]
pub struct Registry {
    counters: BTreeMap<String, Counter>,
    histograms: BTreeMap<String, Histogram>,
    help: BTreeMap<String, String>,
}

impl Registry {
    pub fn counter(&mut self, name: &str, help: &str) -> &mut Counter {
        self.help.entry(name.to_string()).or_insert_with(|| help.to_string());
        self.counters.entry(name.to_string()).or_default()
    }

    pub fn histogram(&mut self, name: &str, help: &str, bounds: &[f64]) -> &mut Histogram {
        self.help.entry(name.to_string()).or_insert_with(|| help.to_string());
        self.histograms
            .entry(name.to_string())
            .or_insert_with(|| Histogram::new(bounds))
    }

    pub fn counters(&self) -> impl Iterator<Item = (&String, &Counter)> {
        self.counters.iter()
    }

    pub fn histograms(&self) -> impl Iterator<Item = (&String, &Histogram)> {
        self.histograms.iter()
    }

    pub fn help_of(&self, name: &str) -> &str {
        self.help.get(name).map(String::as_str).unwrap_or("")
    }
}
