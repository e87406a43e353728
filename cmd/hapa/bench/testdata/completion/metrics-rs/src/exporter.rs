use std::fmt::Write;

use crate::registry::Registry;

/// Renders every metric of the registry in the Prometheus text format.
pub fn render(registry: &Registry) -> String {
    let mut out = String::new();
    for (name, counter) in registry.counters() {
        writeln!(out, "# HELP {} {}", name, registry.help_of(name)).unwrap();
        writeln!(out, "# TYPE {} counter", name).unwrap();
        writeln!(out, "{} {}", name, counter.get()).unwrap();
    }
    for (name, hist) in registry.histograms() {
        writeln!(out, "# HELP {} {}", name, registry.help_of(name)).unwrap();
        writeln!(out, "# TYPE {} histogram", name).unwrap();
        for (bound, count) in hist.cumulative() {
            let le = if bound.is_infinite() { "+Inf".to_string() } else { bound.to_string() };
            writeln!(out, "{}_bucket{{le=\"{}\"}} {}", name, le, count).unwrap();
        }
        writeln!(out, "{}_sum {}", name, hist.sum()).unwrap();
        writeln!(out, "{}_count {}", name, hist.count()).unwrap();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_a_counter_and_a_histogram() {
        let mut registry = Registry::default();
        registry.counter("requests_total", "Requests served").inc_by(3);
        let latency = registry.histogram("latency_seconds", "Request latency", &[0.1, 1.0]);
        latency.observe(0.05);
        latency.observe(2.0);
        let text = render(&registry);
        assert!(text.contains("requests_total 3"));
        assert!(text.contains("latency_seconds_bucket{le=\"+Inf\"} 2"));
        assert!(text.contains("latency_seconds_count 2"));
    }
}
