//! Results: the table, JSON and the SVG chart.

use std::fmt::Write;
use std::path::Path;

/// One measurement.
#[derive(Debug, Clone, Copy)]
pub enum Measure {
    /// Milliseconds.
    Ms(f64),
    /// Bytes.
    Bytes(u64),
}

impl Measure {
    fn value(self) -> f64 {
        match self {
            Measure::Ms(ms) => ms,
            Measure::Bytes(b) => b as f64 / (1 << 20) as f64,
        }
    }
}

impl std::fmt::Display for Measure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Measure::Ms(ms) => write!(f, "{ms:.0} ms"),
            Measure::Bytes(_) => write!(f, "{:.1} MiB", self.value()),
        }
    }
}

/// Measurements by phase (in order of first appearance) and engine.
#[derive(Default)]
pub struct Results {
    rows: Vec<(String, Vec<(String, Measure)>)>,
}

impl Results {
    /// Records a measurement.
    pub fn add(&mut self, phase: &str, engine: &str, m: Measure) {
        match self.rows.iter_mut().find(|r| r.0 == phase) {
            Some(row) => row.1.push((engine.to_owned(), m)),
            None => self
                .rows
                .push((phase.to_owned(), vec![(engine.to_owned(), m)])),
        }
    }

    fn get(&self, phase: &str, engine: &str) -> Option<Measure> {
        self.rows
            .iter()
            .find(|r| r.0 == phase)?
            .1
            .iter()
            .find(|e| e.0 == engine)
            .map(|e| e.1)
    }

    fn ratio(&self, phase: &str, peer: &str) -> Option<f64> {
        Some(self.get(phase, "nevar")?.value() / self.get(phase, peer)?.value())
    }

    /// Per phase and engine, the median of `runs` (all of the same phases).
    pub fn median(runs: &[Results]) -> Results {
        let mut out = Results::default();
        for (phase, cells) in &runs[0].rows {
            for (engine, first) in cells {
                let mut values: Vec<f64> = runs
                    .iter()
                    .filter_map(|r| r.get(phase, engine))
                    .map(Measure::value)
                    .collect();
                values.sort_by(f64::total_cmp);
                let mid = values[values.len() / 2];
                let m = match first {
                    Measure::Ms(_) => Measure::Ms(mid),
                    Measure::Bytes(_) => Measure::Bytes((mid * (1 << 20) as f64) as u64),
                };
                out.add(phase, engine, m);
            }
        }
        out
    }

    /// The ratios' spread over `runs`: per phase, nevar/peer as median (lowest - highest).
    pub fn spread(runs: &[Results]) -> String {
        let mut out = format!(
            "\nratios over {} runs: median (lowest - highest)\n",
            runs.len()
        );
        for (phase, _) in &runs[0].rows {
            let _ = write!(out, "{phase:<24}");
            for peer in ["lmdb", "redb"] {
                let mut r: Vec<f64> = runs.iter().filter_map(|x| x.ratio(phase, peer)).collect();
                r.sort_by(f64::total_cmp);
                let cell = match (r.first(), r.last()) {
                    (Some(lo), Some(hi)) => {
                        format!("{:.2}x ({lo:.2}-{hi:.2})", r[r.len() / 2])
                    }
                    _ => "-".into(),
                };
                let _ = write!(out, "{cell:>22}");
            }
            out.push('\n');
        }
        out
    }

    /// The table: one row per phase, one column per engine, then nevar/peer ratios.
    pub fn table(&self, engines: &[String]) -> String {
        let mut out = String::new();
        header(&mut out, "phase", engines);
        let _ = writeln!(out, "{:>13}{:>13}", "nevar/lmdb", "nevar/redb");
        for (phase, _) in &self.rows {
            let _ = write!(out, "{phase:<24}");
            for e in engines {
                let cell = self
                    .get(phase, e)
                    .map(|m| m.to_string())
                    .unwrap_or_else(|| "-".into());
                let _ = write!(out, "{cell:>12}");
            }
            for peer in ["lmdb", "redb"] {
                let cell = self
                    .ratio(phase, peer)
                    .map(|r| format!("{r:.2}x"))
                    .unwrap_or_else(|| "-".into());
                let _ = write!(out, "{cell:>13}");
            }
            out.push('\n');
        }
        out
    }

    /// Commits per second for the phases that time a known number of commits: `phases` pairs
    /// a phase with its commit count. Phases not measured are left out.
    pub fn commit_rates(&self, engines: &[String], phases: &[(&str, u64)]) -> String {
        let mut out = String::new();
        header(&mut out, "commits per second", engines);
        out.push('\n');
        for &(phase, commits) in phases {
            if engines.iter().all(|e| self.get(phase, e).is_none()) {
                continue;
            }
            let _ = write!(out, "{phase:<24}");
            for e in engines {
                let cell = match self.get(phase, e) {
                    Some(Measure::Ms(ms)) if ms > 0.0 => {
                        format!("{:.0}", commits as f64 * 1000.0 / ms)
                    }
                    _ => "-".into(),
                };
                let _ = write!(out, "{cell:>12}");
            }
            out.push('\n');
        }
        out
    }

    /// The results as JSON.
    pub fn json(&self, n: usize) -> String {
        let mut out = format!("{{\n  \"records\": {n},\n  \"phases\": [\n");
        for (i, (phase, cells)) in self.rows.iter().enumerate() {
            let _ = write!(out, "    {{\"phase\": \"{phase}\"");
            for (engine, m) in cells {
                let (key, value) = match m {
                    Measure::Ms(ms) => ("ms", format!("{ms:.3}")),
                    Measure::Bytes(b) => ("bytes", b.to_string()),
                };
                let _ = write!(out, ", \"{engine}_{key}\": {value}");
            }
            let _ = writeln!(out, "}}{}", if i + 1 < self.rows.len() { "," } else { "" });
        }
        out.push_str("  ]\n}\n");
        out
    }

    /// A horizontal bar chart: one labelled row per phase, the engines' bars side by side,
    /// each engine's time (or size) relative to LMDB's with the ratio printed at the bar's end.
    /// Phases without a meaningful time (LMDB under a millisecond, such as `len()`) are left out.
    pub fn chart(&self, path: &Path, engines: &[String]) {
        use plotters::prelude::*;
        use plotters::style::text_anchor::{HPos, Pos, VPos};
        let rows: Vec<&String> = self
            .rows
            .iter()
            .map(|(p, _)| p)
            .filter(|p| self.get(p, "lmdb").is_some_and(|m| m.value() >= 1.0))
            .collect();
        let ratio = |phase: &str, engine: &str| -> Option<f64> {
            Some(self.get(phase, engine)?.value() / self.get(phase, "lmdb")?.value())
        };
        let max = rows
            .iter()
            .flat_map(|p| engines.iter().filter_map(|e| ratio(p, e)))
            .fold(1.0f64, f64::max)
            .min(20.0);
        let height = 80 + 26 * engines.len() as u32 * rows.len() as u32;
        let root = SVGBackend::new(path, (1000, height)).into_drawing_area();
        root.fill(&WHITE).unwrap();
        let mut chart = ChartBuilder::on(&root)
            .caption(
                "time (or size) relative to LMDB, lower is better",
                ("sans-serif", 20),
            )
            .margin(12)
            .x_label_area_size(30)
            .y_label_area_size(170)
            .build_cartesian_2d(0f64..max * 1.2, 0f64..rows.len() as f64)
            .unwrap();
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(0)
            .x_desc("x LMDB")
            .draw()
            .unwrap();
        let colors = [
            RGBColor(214, 96, 77),
            RGBColor(67, 147, 195),
            RGBColor(120, 120, 120),
        ];
        let band = 0.8 / engines.len() as f64;
        // Row `i` from the top: the first phase is drawn highest.
        let top = |i: usize| rows.len() as f64 - i as f64 - 0.1;
        for (ei, engine) in engines.iter().enumerate() {
            let color = colors[ei % colors.len()];
            let bars: Vec<(f64, f64, f64)> = rows
                .iter()
                .enumerate()
                .filter_map(|(i, phase)| {
                    let y1 = top(i) - ei as f64 * band;
                    Some((ratio(phase, engine)?, y1 - band * 0.9, y1))
                })
                .collect();
            chart
                .draw_series(bars.iter().map(|&(v, y0, y1)| {
                    Rectangle::new([(0.0, y0), (v.min(max * 1.2), y1)], color.filled())
                }))
                .unwrap()
                .label(engine.as_str())
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 10, y + 5)], color.filled())
                });
            let label = ("sans-serif", 12).into_font().color(&BLACK);
            chart
                .draw_series(bars.iter().map(|&(v, y0, y1)| {
                    let at = (v.min(max * 1.2), (y0 + y1) / 2.0);
                    Text::new(
                        format!(" {v:.2}x"),
                        at,
                        label.clone().pos(Pos::new(HPos::Left, VPos::Center)),
                    )
                }))
                .unwrap();
        }
        let name_style = ("sans-serif", 13)
            .into_font()
            .color(&BLACK)
            .pos(Pos::new(HPos::Right, VPos::Center));
        for (i, phase) in rows.iter().enumerate() {
            let (x, y) = chart.backend_coord(&(0.0, top(i) - 0.4));
            root.draw(&Text::new(
                phase.to_string(),
                (x - 8, y),
                name_style.clone(),
            ))
            .unwrap();
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .border_style(BLACK)
            .background_style(WHITE)
            .draw()
            .unwrap();
        root.present().unwrap();
    }
}

/// A table's first line up to its engine columns: a blank line, `title`, one column per engine.
fn header(out: &mut String, title: &str, engines: &[String]) {
    let _ = write!(out, "\n{title:<24}");
    for e in engines {
        let _ = write!(out, "{e:>12}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_rates_divide_each_phase_commits_by_its_time() {
        let mut results = Results::default();
        results.add("individual writes", "nevar", Measure::Ms(250.0));
        results.add("individual writes", "lmdb", Measure::Ms(500.0));
        results.add("random reads", "nevar", Measure::Ms(10.0));
        let engines: Vec<String> = ["nevar", "lmdb", "redb"].map(String::from).to_vec();
        let table = results.commit_rates(
            &engines,
            &[("individual writes", 1000), ("batch writes", 100)],
        );
        let row = table
            .lines()
            .find(|l| l.starts_with("individual writes"))
            .expect("a row for the measured phase");
        let cells: Vec<&str> = row.split_whitespace().skip(2).collect();
        assert_eq!(cells, ["4000", "2000", "-"]);
        assert!(
            !table.contains("batch writes"),
            "unmeasured phases are left out"
        );
        assert!(!table.contains("random reads"), "only the phases asked for");
    }

    #[test]
    fn the_chart_has_one_labelled_row_per_timed_phase() {
        let mut results = Results::default();
        for (engine, ms) in [("nevar", 90.0), ("lmdb", 100.0), ("redb", 150.0)] {
            results.add("random reads", engine, Measure::Ms(ms));
            results.add("len", engine, Measure::Ms(0.0));
            results.add("file size", engine, Measure::Bytes(10 << 20));
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("chart.svg");
        let engines: Vec<String> = ["nevar", "lmdb", "redb"].map(String::from).to_vec();
        results.chart(&path, &engines);
        let svg = std::fs::read_to_string(&path).unwrap();
        assert!(svg.contains("random reads") && svg.contains("file size"));
        assert!(!svg.contains(">len<"), "phases without a time are left out");
        assert!(svg.contains("0.90x") && svg.contains("1.50x"));
    }
}
