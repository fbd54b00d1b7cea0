//! `concbench list`: the registered models and the presets, one line each.

use crate::cli::presets;
use crate::strategy::StrategyKind;

/// `concbench list`.
pub fn list() {
    let width = StrategyKind::ALL
        .iter()
        .map(|k| k.name().len())
        .chain(presets::all().iter().map(|p| p.name.len()))
        .max()
        .unwrap_or(0);
    println!("strategies (--strategies):");
    for k in StrategyKind::ALL {
        println!("  {:width$}  {}", k.name(), k.description());
    }
    println!(
        "  and any program of yours as a row: --external NAME='COMMAND ARGS…' (the README's \
         \"Your own program as a model\"; Python ones in scripts/python/)"
    );
    println!("\npresets (--preset):");
    for p in presets::all() {
        println!("  {:width$}  {}", p.name, p.description);
    }
}
