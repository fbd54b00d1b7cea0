//! The text table `concbench run` prints: one row per strategy, the failed
//! tasks by cause, and where the time went.

use super::RunReport;

pub(super) fn render(run: &RunReport) -> String {
    let (head, rows) = run.rows();
    let mut out = run.header() + "\n\n" + &align(&head, rows);
    out += &format!("verdict: {}\n", crate::report::verdict(run).line());
    if let Some(auto) = &run.meta.repeat_auto {
        out += &format!("{}\n", auto.describe(run.meta.repeat));
    }
    for r in run.results.iter().filter(|r| !r.failures.is_empty()) {
        let causes: Vec<String> = r.failures.iter().map(|(c, n)| format!("{c} {n}")).collect();
        out += &format!(
            "failed tasks of {} by cause: {}\n",
            r.strategy,
            causes.join(", ")
        );
    }
    let (phase_head, phase_rows) = run.phase_rows();
    out += "\nwhere the time went (p50 per task; response includes connecting and waiting for a busy client thread)\n";
    out += &align(&phase_head, phase_rows);
    out
}

/// Aligns a table: the first column left, the others right.
pub(crate) fn align(head: &[&str], rows: Vec<Vec<String>>) -> String {
    {
        let mut widths: Vec<usize> = head.iter().map(|h| h.chars().count()).collect();
        for row in &rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let line = |cells: Vec<String>| {
            let mut s = String::new();
            for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
                let pad = w - cell.chars().count();
                if i == 0 {
                    s.push_str(cell);
                    s.push_str(&" ".repeat(pad));
                } else {
                    s.push_str("  ");
                    s.push_str(&" ".repeat(pad));
                    s.push_str(cell);
                }
            }
            s.trim_end().to_string() + "\n"
        };
        let mut out = line(head.iter().map(|h| h.to_string()).collect());
        for row in rows {
            out += &line(row);
        }
        out
    }
}
