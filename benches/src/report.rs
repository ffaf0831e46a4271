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

    /// The table: one row per phase, one column per engine, then nevar/peer ratios.
    pub fn table(&self, engines: &[String]) -> String {
        let mut out = String::new();
        let _ = write!(out, "\n{:<24}", "phase");
        for e in engines {
            let _ = write!(out, "{e:>12}");
        }
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

    /// A bar chart of each engine's time (or size) relative to LMDB's, per phase.
    pub fn chart(&self, path: &Path, engines: &[String]) {
        use plotters::prelude::*;
        let rows: Vec<_> = self
            .rows
            .iter()
            .filter(|(p, _)| self.get(p, "lmdb").is_some())
            .collect();
        let root = SVGBackend::new(path, (1200, 640)).into_drawing_area();
        root.fill(&WHITE).unwrap();
        let max = rows
            .iter()
            .flat_map(|(p, cells)| {
                cells.iter().map(move |(e, m)| {
                    m.value() / self.get(p, "lmdb").unwrap().value().max(1e-9)
                        + 0.0 * e.len() as f64
                })
            })
            .fold(1.0f64, f64::max)
            .min(20.0);
        let mut chart = ChartBuilder::on(&root)
            .caption(
                "time (or size) relative to LMDB, lower is better",
                ("sans-serif", 22),
            )
            .margin(12)
            .x_label_area_size(150)
            .y_label_area_size(50)
            .build_cartesian_2d(0f64..rows.len() as f64, 0f64..max * 1.1)
            .unwrap();
        chart
            .configure_mesh()
            .x_labels(rows.len())
            .x_label_formatter(&|x| {
                rows.get(*x as usize)
                    .map(|r| r.0.clone())
                    .unwrap_or_default()
            })
            .x_label_style(
                ("sans-serif", 12)
                    .into_font()
                    .transform(FontTransform::Rotate90),
            )
            .draw()
            .unwrap();
        let colors = [
            RGBColor(214, 96, 77),
            RGBColor(67, 147, 195),
            RGBColor(120, 120, 120),
        ];
        let width = 0.8 / engines.len() as f64;
        for (ei, engine) in engines.iter().enumerate() {
            let bars = rows.iter().enumerate().filter_map(|(i, (phase, _))| {
                let v = (self.get(phase, engine)?.value()
                    / self.get(phase, "lmdb")?.value().max(1e-9))
                .min(max * 1.1);
                let x0 = i as f64 + 0.1 + ei as f64 * width;
                Some(Rectangle::new(
                    [(x0, 0.0), (x0 + width, v)],
                    colors[ei % 3].filled(),
                ))
            });
            chart
                .draw_series(bars)
                .unwrap()
                .label(engine.as_str())
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 10, y + 5)], colors[ei % 3].filled())
                });
        }
        chart
            .configure_series_labels()
            .border_style(BLACK)
            .background_style(WHITE)
            .draw()
            .unwrap();
        root.present().unwrap();
    }
}
