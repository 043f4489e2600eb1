//! `cargo xtask <task>`: repository chores.
//!
//! - `refs`: regenerate the reference files under `tests/data/` by running the scripts in `validation/`
//!   with the peers' Python (a virtual environment with pymatgen; see `validation/README.md`).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

/// Reference scripts run by `cargo xtask refs`, in order.
const REFERENCE_SCRIPTS: &[&str] = &[
    "elements.py",
    "structure_refs.py",
    "eos_refs.py",
    "features_ref.py",
    "diffusion_refs.py",
    "diffusion_coverage.py",
    "sisso_torchsisso.py",
    "sisso_multitask.py",
    "ml_refs.py",
];

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

/// The Python with the peers installed: `$AMORPH_PYTHON`, else `.venv-peers/bin/python` in the
/// workspace or its parent, else `python3`.
fn python(root: &Path) -> PathBuf {
    if let Some(p) = std::env::var_os("AMORPH_PYTHON") {
        return PathBuf::from(p);
    }
    for dir in [root, root.parent().unwrap_or(root)] {
        let p = dir.join(".venv-peers/bin/python");
        if p.exists() {
            return p;
        }
    }
    PathBuf::from("python3")
}

fn refs() -> Result<()> {
    let root = workspace_root();
    let py = python(&root);
    let check = Command::new(&py)
        .args(["-c", "import pymatgen.core"])
        .status()
        .with_context(|| format!("cannot run {}", py.display()))?;
    if !check.success() {
        bail!(
            "{} has no pymatgen: python3 -m venv .venv-peers && .venv-peers/bin/pip install pymatgen \
             (or set AMORPH_PYTHON)",
            py.display()
        );
    }
    for script in REFERENCE_SCRIPTS {
        let path = root.join("validation").join(script);
        println!("xtask refs: {} {}", py.display(), path.display());
        let status = Command::new(&py)
            .arg(&path)
            .current_dir(&root)
            .status()
            .with_context(|| format!("cannot run {}", path.display()))?;
        if !status.success() {
            bail!("{} failed with {status}", path.display());
        }
    }
    println!("xtask refs: done; review with `git diff --stat tests/data crates`");
    Ok(())
}

fn main() -> Result<()> {
    let task = std::env::args().nth(1);
    match task.as_deref() {
        Some("refs") => refs(),
        _ => {
            eprintln!(
                "usage: cargo xtask <task>\n\ntasks:\n  refs    regenerate tests/data from validation/ scripts"
            );
            std::process::exit(2)
        }
    }
}
