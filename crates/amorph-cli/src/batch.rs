//! `amorph batch`: many compositions, each an `amorph run` in its own directory, gathered into one
//! SQLite database.
//!
//! Layout of a batch directory `DB`:
//! - `DB/batch.json`: the plan (compositions in file order, the `amorph run` options);
//! - `DB/runs/FORMULA/`: one run directory per composition (resumable, see `amorph run`), with the
//!   task's output in `run.log`;
//! - `DB/amorph.sqlite`: the gathered records (schema in `docs/database.md`).
//!
//! Every task is `amorph batch task DB --index I`, so a local process pool and a scheduler run the
//! same thing.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use amorph::db::{Database, DbError, Gathered};
use amorph::structure::Composition;
use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

#[derive(clap::Args, Debug)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct BatchArgs {
    #[command(subcommand)]
    command: Option<BatchCommand>,
    /// Text file of compositions, one per line (`#` starts a comment).
    #[arg(required = true)]
    compositions: Option<PathBuf>,
    /// The batch directory (created; a batch already there is resumed).
    #[arg(long, required = true)]
    out: Option<PathBuf>,
    /// Compositions run at the same time (default: the number of cores); each gets
    /// cores / jobs threads.
    #[arg(long)]
    jobs: Option<usize>,
    #[command(flatten)]
    options: RunOptions,
    /// Submit the batch to Slurm as a job array instead of running it here.
    #[arg(long)]
    slurm: bool,
    #[command(flatten)]
    slurm_options: crate::slurm::SlurmOptions,
}

#[derive(clap::Subcommand, Debug)]
enum BatchCommand {
    /// Progress of a batch: each composition done, failed (with the stage) or pending.
    Status {
        /// The batch directory.
        db: PathBuf,
    },
    /// Merge every finished run into DB/amorph.sqlite (idempotent; safe to run concurrently).
    Gather {
        /// The batch directory.
        db: PathBuf,
    },
    /// Gather, then resubmit the unfinished tasks of a Slurm batch (run by its follow-up jobs).
    Continue {
        /// The batch directory.
        db: PathBuf,
    },
    /// Run one composition of a batch (what each worker or scheduler task executes).
    Task {
        /// The batch directory.
        db: PathBuf,
        /// Index of the composition in the plan, from 0.
        #[arg(long)]
        index: usize,
    },
}

/// The `amorph run` options shared by every composition of a batch.
#[derive(clap::Args, Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunOptions {
    /// Atoms per composition (see `amorph run --atoms`).
    #[arg(long)]
    atoms: Option<usize>,
    /// Force field: pedone, bks, teter, or a TOML parameter file.
    #[arg(long)]
    potential: Option<String>,
    /// Seed of every run (the same for every composition, so a record does not depend on the
    /// batch it ran in).
    #[arg(long)]
    seed: Option<u64>,
    /// The quick preset of `amorph run`.
    #[arg(long)]
    quick: bool,
    /// Settings file (TOML) for every run.
    #[arg(long)]
    config: Option<PathBuf>,
}

/// What `DB/batch.json` holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// Reduced formulas, in the order of the compositions file.
    pub compositions: Vec<String>,
    /// The run options.
    pub options: RunOptions,
}

impl Plan {
    pub fn path(db: &Path) -> PathBuf {
        db.join("batch.json")
    }

    pub fn load(db: &Path) -> Result<Plan> {
        let path = Plan::path(db);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("{}: not a batch directory (no batch.json)", db.display()))?;
        serde_json::from_str(&text).with_context(|| format!("{}", path.display()))
    }

    pub fn run_dir(db: &Path, formula: &str) -> PathBuf {
        db.join("runs").join(formula)
    }

    /// Creates the batch directory with this plan, or checks that the one there is the same.
    pub fn create(&self, db: &Path) -> Result<()> {
        std::fs::create_dir_all(db.join("runs")).with_context(|| format!("creating {}", db.display()))?;
        let path = Plan::path(db);
        if path.exists() {
            let old = Plan::load(db)?;
            if old != *self {
                bail!(
                    "{} holds another batch (other compositions or options); choose another directory",
                    db.display()
                );
            }
            return Ok(());
        }
        let text = serde_json::to_string_pretty(self)?;
        amorph::structure::io::write_atomically(&path, text.as_bytes())?;
        Ok(())
    }
}

/// Reads a compositions file: one per line, `#` comments, blank lines ignored; errors name the
/// line; a composition listed twice (same reduced formula) is an error.
pub fn read_compositions(path: &Path) -> Result<Vec<String>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut formulas: Vec<(String, usize)> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let entry = line.split('#').next().unwrap_or("").trim();
        if entry.is_empty() {
            continue;
        }
        let c: Composition = entry
            .parse()
            .with_context(|| format!("{}:{}: {entry:?}", path.display(), i + 1))?;
        let formula = c.reduced_formula();
        if let Some((_, first)) = formulas.iter().find(|(f, _)| *f == formula) {
            bail!(
                "{}:{}: {entry} is {formula}, already listed on line {first}",
                path.display(),
                i + 1
            );
        }
        formulas.push((formula, i + 1));
    }
    if formulas.is_empty() {
        bail!("{}: no compositions", path.display());
    }
    Ok(formulas.into_iter().map(|(f, _)| f).collect())
}

/// The database file of a batch directory (or the path itself when it is a file).
pub fn database_path(db: &Path) -> PathBuf {
    if db.is_dir() {
        db.join("amorph.sqlite")
    } else {
        db.to_path_buf()
    }
}

/// State of one composition of a batch.
#[derive(Debug, Clone, PartialEq)]
pub enum TaskState {
    Done,
    Failed { stage: String, message: String },
    Pending,
}

pub fn task_state(run_dir: &Path) -> TaskState {
    let Ok(text) = std::fs::read_to_string(run_dir.join("record.json")) else {
        return TaskState::Pending;
    };
    let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) else {
        return TaskState::Pending;
    };
    match v.get("error").filter(|e| !e.is_null()) {
        Some(e) => TaskState::Failed {
            stage: e.get("stage").and_then(|s| s.as_str()).unwrap_or("").to_string(),
            message: e
                .get("message")
                .and_then(|s| s.as_str())
                .unwrap_or("")
                .to_string(),
        },
        None => TaskState::Done,
    }
}

pub fn run(args: &BatchArgs) -> Result<()> {
    match &args.command {
        Some(BatchCommand::Status { db }) => status(db),
        Some(BatchCommand::Gather { db }) => gather(db).map(|_| ()),
        Some(BatchCommand::Task { db, index }) => task(db, *index),
        Some(BatchCommand::Continue { db }) => crate::slurm::continue_batch(db),
        None => {
            let (Some(list), Some(db)) = (&args.compositions, &args.out) else {
                bail!("amorph batch COMPOSITIONS.txt --out DB");
            };
            let mut options = args.options.clone();
            if let Some(c) = &options.config {
                // Tasks may run elsewhere (a scheduler's node, another working directory).
                options.config = Some(c.canonicalize().with_context(|| format!("{}", c.display()))?);
            }
            let plan = Plan {
                compositions: read_compositions(list)?,
                options,
            };
            plan.create(db)?;
            if args.slurm {
                return crate::slurm::start(db, &plan, &args.slurm_options);
            }
            let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
            let jobs = args.jobs.unwrap_or(cores).clamp(1, plan.compositions.len());
            run_local(db, &plan, jobs, (cores / jobs).max(1))?;
            let failed = gather(db)?;
            if failed > 0 {
                eprintln!("amorph batch: {failed} composition(s) failed; see `amorph batch status`");
            }
            Ok(())
        }
    }
}

/// Runs the unfinished tasks of a batch on a local pool of `jobs` processes.
fn run_local(db: &Path, plan: &Plan, jobs: usize, threads: usize) -> Result<()> {
    let exe = std::env::current_exe().context("locating the amorph executable")?;
    let todo: Vec<usize> = (0..plan.compositions.len())
        .filter(|&i| task_state(&Plan::run_dir(db, &plan.compositions[i])) != TaskState::Done)
        .collect();
    eprintln!(
        "amorph batch: {} of {} compositions to run, {jobs} at a time",
        todo.len(),
        plan.compositions.len()
    );
    let next = AtomicUsize::new(0);
    let spawn_error: Mutex<Option<anyhow::Error>> = Mutex::new(None);
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| {
                loop {
                    let k = next.fetch_add(1, Ordering::SeqCst);
                    let Some(&i) = todo.get(k) else { break };
                    let formula = &plan.compositions[i];
                    let result = Command::new(&exe)
                        .args(["batch", "task"])
                        .arg(db)
                        .args(["--index", &i.to_string()])
                        .env("RAYON_NUM_THREADS", threads.to_string())
                        .stdin(Stdio::null())
                        .stdout(Stdio::null())
                        .stderr(Stdio::null())
                        .status();
                    match result {
                        Ok(s) if s.success() => eprintln!("  {formula}: done"),
                        Ok(_) => match task_state(&Plan::run_dir(db, formula)) {
                            TaskState::Failed { stage, message } => {
                                eprintln!("  {formula}: failed in {stage}: {message}")
                            }
                            _ => eprintln!(
                                "  {formula}: failed (see {})",
                                Plan::run_dir(db, formula).join("run.log").display()
                            ),
                        },
                        Err(e) => {
                            let mut slot = spawn_error.lock().unwrap_or_else(|p| p.into_inner());
                            slot.get_or_insert(anyhow::anyhow!("cannot start {}: {e}", exe.display()));
                            break;
                        }
                    }
                }
            });
        }
    });
    match spawn_error.into_inner().unwrap_or_else(|p| p.into_inner()) {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// One task: `amorph run` for composition `index`, its output appended to the run's `run.log`.
fn task(db: &Path, index: usize) -> Result<()> {
    let plan = Plan::load(db)?;
    let Some(formula) = plan.compositions.get(index) else {
        bail!(
            "{}: task {index} out of range ({} compositions)",
            db.display(),
            plan.compositions.len()
        );
    };
    let dir = Plan::run_dir(db, formula);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let log_path = dir.join("run.log");
    let log = File::options()
        .create(true)
        .append(true)
        .open(&log_path)
        .with_context(|| format!("opening {}", log_path.display()))?;
    let o = &plan.options;
    let mut cmd = Command::new(std::env::current_exe().context("locating the amorph executable")?);
    cmd.arg("run").arg(formula).arg("--out").arg(&dir);
    if let Some(n) = o.atoms {
        cmd.args(["--atoms", &n.to_string()]);
    }
    if let Some(p) = &o.potential {
        cmd.args(["--potential", p]);
    }
    if let Some(s) = o.seed {
        cmd.args(["--seed", &s.to_string()]);
    }
    if o.quick {
        cmd.arg("--quick");
    }
    if let Some(c) = &o.config {
        cmd.arg("--config").arg(c);
    }
    let err = log.try_clone().context("run.log")?;
    let status = cmd
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(err)
        .status()
        .context("starting amorph run")?;
    if !status.success() {
        bail!("{formula}: amorph run failed (see {})", log_path.display());
    }
    Ok(())
}

/// `amorph batch status DB`.
fn status(db: &Path) -> Result<()> {
    let plan = Plan::load(db)?;
    let slurm = crate::slurm::load_state(db)?;
    let queue = slurm.as_ref().map(crate::slurm::queue_states).unwrap_or_default();
    let (mut done, mut failed, mut pending) = (0, 0, 0);
    for (i, formula) in plan.compositions.iter().enumerate() {
        if let Some((job, state)) = queue.get(&i) {
            pending += 1;
            println!("{formula:<20} {state} (Slurm job {job})");
            continue;
        }
        match task_state(&Plan::run_dir(db, formula)) {
            TaskState::Done => {
                done += 1;
                println!("{formula:<20} done");
            }
            TaskState::Failed { stage, message } => {
                failed += 1;
                println!("{formula:<20} failed in {stage}: {message}");
            }
            TaskState::Pending => {
                pending += 1;
                println!("{formula:<20} pending");
            }
        }
    }
    println!("{done} done, {failed} failed, {pending} pending");
    if let Some(s) = slurm {
        let last = s.submissions.last();
        println!(
            "Slurm: {} submission(s), last array {}{}",
            s.submissions.len(),
            last.map_or("-", |l| l.array_job.as_str()),
            if s.finished { "; finished" } else { "; under way" }
        );
    }
    Ok(())
}

/// `amorph batch gather DB`: returns the number of failed records.
pub fn gather(db: &Path) -> Result<usize> {
    let plan = Plan::load(db)?;
    let mut database = Database::open(&database_path(db))?;
    let (mut inserted, mut updated, mut unchanged, mut pending, mut failed) = (0, 0, 0, 0, 0);
    for formula in &plan.compositions {
        let dir = Plan::run_dir(db, formula);
        match database.gather_run(&dir) {
            Ok(g) => {
                match g {
                    Gathered::Inserted => inserted += 1,
                    Gathered::Updated => updated += 1,
                    Gathered::Unchanged => unchanged += 1,
                }
                if matches!(task_state(&dir), TaskState::Failed { .. }) {
                    failed += 1;
                }
            }
            Err(DbError::NoRecord(_)) => pending += 1,
            Err(e) => return Err(e.into()),
        }
    }
    eprintln!(
        "amorph batch: {}: {inserted} new, {updated} updated, {unchanged} unchanged records; {pending} pending",
        database.path().display()
    );
    Ok(failed)
}
