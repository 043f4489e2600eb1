//! `amorph batch --slurm`: a batch as a Slurm job array.
//!
//! Submission writes `DB/slurm/array_N.sh` (one array task per unfinished composition, each running
//! `amorph batch task DB --index I`) and a follow-up job `DB/slurm/continue_N.sh` that starts when
//! every task of the array has ended (`--dependency=afterany`). The follow-up runs
//! `amorph batch continue DB`: it gathers the finished records into the database and resubmits the
//! tasks that failed, were cancelled or timed out — they resume from their checkpoints — until
//! every composition is done or the retry limit is reached. Nothing has to stay running on the
//! login node.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use crate::batch::{Plan, TaskState, task_state};

/// Scheduler options of a Slurm batch.
#[derive(clap::Args, Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SlurmOptions {
    /// Partition (`sbatch --partition`; default: the cluster's default).
    #[arg(long)]
    pub partition: Option<String>,
    /// Time limit of each task (`sbatch --time`, e.g. 12:00:00); a task that runs out of time is
    /// resubmitted and resumes from its checkpoints.
    #[arg(long)]
    pub time: Option<String>,
    /// Cores per task (`sbatch --cpus-per-task`; the task uses that many threads).
    #[arg(long, default_value_t = 1)]
    pub cpus_per_task: usize,
    /// Largest number of tasks running at once (`--array=…%M`).
    #[arg(long)]
    pub array_max: Option<usize>,
    /// Resubmissions of unfinished tasks before giving up.
    #[arg(long, default_value_t = 3)]
    pub max_retries: usize,
    /// Extra `sbatch` arguments, e.g. `--account=abc` (repeatable).
    #[arg(long = "sbatch-arg", allow_hyphen_values = true)]
    pub sbatch_args: Vec<String>,
}

/// `DB/slurm/state.json`: what has been submitted.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SlurmState {
    pub options: SlurmOptions,
    /// The amorph executable the tasks run (a path on the shared file system).
    pub exe: PathBuf,
    /// Submissions so far: the array's job id and its composition indices.
    pub submissions: Vec<Submission>,
    /// Set when the batch ended: every composition done, or the retries used up.
    pub finished: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Submission {
    pub array_job: String,
    pub continue_job: String,
    pub indices: Vec<usize>,
}

fn state_path(db: &Path) -> PathBuf {
    db.join("slurm").join("state.json")
}

pub fn load_state(db: &Path) -> Result<Option<SlurmState>> {
    let path = state_path(db);
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(Some(
            serde_json::from_str(&text).with_context(|| format!("{}", path.display()))?,
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("{}", path.display())),
    }
}

fn save_state(db: &Path, state: &SlurmState) -> Result<()> {
    let text = serde_json::to_string_pretty(state)?;
    amorph::structure::io::write_atomically(state_path(db), text.as_bytes())?;
    Ok(())
}

/// The compositions not done yet.
fn unfinished(db: &Path, plan: &Plan) -> Vec<usize> {
    (0..plan.compositions.len())
        .filter(|&i| task_state(&Plan::run_dir(db, &plan.compositions[i])) != TaskState::Done)
        .collect()
}

/// `1,3-5,8` for [1, 3, 4, 5, 8].
fn array_spec(indices: &[usize]) -> String {
    let mut parts = Vec::new();
    let mut k = 0;
    while k < indices.len() {
        let start = indices[k];
        let mut end = start;
        while k + 1 < indices.len() && indices[k + 1] == end + 1 {
            k += 1;
            end += 1;
        }
        parts.push(if end > start {
            format!("{start}-{end}")
        } else {
            start.to_string()
        });
        k += 1;
    }
    parts.join(",")
}

fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

fn sbatch(script: &Path, extra: &[String]) -> Result<String> {
    let out = Command::new("sbatch")
        .arg("--parsable")
        .args(extra)
        .arg(script)
        .output()
        .context("running sbatch (is Slurm installed and on PATH?)")?;
    if !out.status.success() {
        bail!(
            "sbatch {} failed: {}",
            script.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    // `--parsable` prints `jobid` or `jobid;cluster`.
    let text = String::from_utf8_lossy(&out.stdout);
    let id = text.trim().split(';').next().unwrap_or("").to_string();
    if id.is_empty() || !id.chars().all(|c| c.is_ascii_digit()) {
        bail!("sbatch printed no job id: {text:?}");
    }
    Ok(id)
}

/// Writes and submits the array of `indices` and its follow-up job.
fn submit(db: &Path, state: &mut SlurmState, indices: &[usize]) -> Result<()> {
    let o = &state.options;
    let n = state.submissions.len();
    let dir = db.join("slurm");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let db_s = db.to_string_lossy();
    let exe = state.exe.to_string_lossy();
    let mut header = String::from("#!/bin/sh\n");
    if let Some(p) = &o.partition {
        header.push_str(&format!("#SBATCH --partition={p}\n"));
    }
    let mut array = header.clone();
    array.push_str("#SBATCH --job-name=amorph-batch\n");
    let limit = o.array_max.map(|m| format!("%{m}")).unwrap_or_default();
    array.push_str(&format!("#SBATCH --array={}{limit}\n", array_spec(indices)));
    array.push_str(&format!("#SBATCH --cpus-per-task={}\n", o.cpus_per_task));
    if let Some(t) = &o.time {
        array.push_str(&format!("#SBATCH --time={t}\n"));
    }
    array.push_str(&format!("#SBATCH --output={db_s}/slurm/%A_%a.out\n"));
    array.push_str(&format!(
        "export RAYON_NUM_THREADS=${{SLURM_CPUS_PER_TASK:-1}}\nexec {} batch task {} --index \"$SLURM_ARRAY_TASK_ID\"\n",
        sh_quote(&exe),
        sh_quote(&db_s)
    ));
    let array_path = dir.join(format!("array_{n}.sh"));
    amorph::structure::io::write_atomically(&array_path, array.as_bytes())?;
    let array_job = sbatch(&array_path, &o.sbatch_args)?;

    let mut follow = header;
    follow.push_str("#SBATCH --job-name=amorph-batch-continue\n#SBATCH --cpus-per-task=1\n");
    follow.push_str(&format!("#SBATCH --output={db_s}/slurm/continue_{n}_%j.out\n"));
    follow.push_str(&format!(
        "exec {} batch continue {}\n",
        sh_quote(&exe),
        sh_quote(&db_s)
    ));
    let follow_path = dir.join(format!("continue_{n}.sh"));
    amorph::structure::io::write_atomically(&follow_path, follow.as_bytes())?;
    let mut extra = o.sbatch_args.clone();
    extra.push(format!("--dependency=afterany:{array_job}"));
    let continue_job = sbatch(&follow_path, &extra)?;
    eprintln!(
        "amorph batch: submitted {} task(s) as Slurm array {array_job} (then job {continue_job} gathers and resubmits)",
        indices.len()
    );
    state.submissions.push(Submission {
        array_job,
        continue_job,
        indices: indices.to_vec(),
    });
    save_state(db, state)
}

/// First submission of a batch (`amorph batch … --slurm`).
pub fn start(db: &Path, plan: &Plan, options: &SlurmOptions) -> Result<()> {
    if options.cpus_per_task == 0 {
        bail!("--cpus-per-task must be at least 1");
    }
    let db = db.canonicalize().with_context(|| format!("{}", db.display()))?;
    if let Some(old) = load_state(&db)?
        && !old.finished
    {
        bail!(
            "{}: a Slurm batch is already under way (array {}); see `amorph batch status`",
            db.display(),
            old.submissions.last().map_or("?", |s| s.array_job.as_str())
        );
    }
    let todo = unfinished(&db, plan);
    if todo.is_empty() {
        eprintln!("amorph batch: every composition is done");
        return Ok(());
    }
    let mut state = SlurmState {
        options: options.clone(),
        exe: std::env::current_exe().context("locating the amorph executable")?,
        submissions: Vec::new(),
        finished: false,
    };
    submit(&db, &mut state, &todo)
}

/// `amorph batch continue DB`: run by the follow-up job of each array.
pub fn continue_batch(db: &Path) -> Result<()> {
    let plan = Plan::load(db)?;
    let Some(mut state) = load_state(db)? else {
        bail!("{}: not a Slurm batch (no slurm/state.json)", db.display());
    };
    crate::batch::gather(db)?;
    let todo = unfinished(db, &plan);
    let retries = state.submissions.len().saturating_sub(1);
    if todo.is_empty() {
        eprintln!("amorph batch: every composition is done");
        state.finished = true;
        return save_state(db, &state);
    }
    if retries >= state.options.max_retries {
        eprintln!(
            "amorph batch: {} composition(s) unfinished after {retries} resubmission(s); giving up",
            todo.len()
        );
        state.finished = true;
        return save_state(db, &state);
    }
    submit(db, &mut state, &todo)
}

/// Slurm's view of the batch's tasks still in the queue: composition index → (job, state).
pub fn queue_states(state: &SlurmState) -> BTreeMap<usize, (String, String)> {
    let mut out = BTreeMap::new();
    let Some(last) = state.submissions.last() else {
        return out;
    };
    let Ok(o) = Command::new("squeue")
        .args([
            "--noheader",
            "--array",
            "--format=%i %T",
            "--jobs",
            &last.array_job,
        ])
        .output()
    else {
        return out;
    };
    for line in String::from_utf8_lossy(&o.stdout).lines() {
        let mut it = line.split_whitespace();
        let (Some(id), Some(st)) = (it.next(), it.next()) else {
            continue;
        };
        // `123_4`, or `123_[5-7]` for tasks not started yet.
        let Some((_, idx)) = id.split_once('_') else {
            continue;
        };
        if let Ok(i) = idx.parse::<usize>() {
            out.insert(i, (id.to_string(), st.to_lowercase()));
        } else if let Some(range) = idx.strip_prefix('[').and_then(|r| r.split('%').next()) {
            for part in range.trim_end_matches(']').split(',') {
                let (a, b) = part.split_once('-').unwrap_or((part, part));
                if let (Ok(a), Ok(b)) = (a.parse::<usize>(), b.parse::<usize>()) {
                    for i in a..=b {
                        out.insert(i, (format!("{}_{i}", last.array_job), st.to_lowercase()));
                    }
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn array_specs_are_compact_ranges() {
        assert_eq!(array_spec(&[0, 1, 2, 3]), "0-3");
        assert_eq!(array_spec(&[1, 3, 4, 5, 8]), "1,3-5,8");
        assert_eq!(array_spec(&[7]), "7");
    }

    #[test]
    fn quoting_survives_spaces_and_quotes() {
        assert_eq!(sh_quote("/a b/it's"), "'/a b/it'\\''s'");
    }
}
