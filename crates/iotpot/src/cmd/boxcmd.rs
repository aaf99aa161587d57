//! `iotpot box build|list|status|shell`: IoTBOX images and sandboxes.

use clap::Subcommand;
use iotpot_iotbox::{image, template, BoxArch, Image, Vm, ARCHES};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[derive(Subcommand)]
pub enum BoxCmd {
    /// Build sandbox images from Debian packages into data_dir/images/.
    Build {
        /// Architectures (default: every one Debian has).
        #[arg(long, value_delimiter = ',')]
        arch: Vec<String>,
    },
    /// The architectures and which images are built.
    List,
    /// Images, templates and QEMU on this host, checked.
    Status,
    /// An interactive console on a fresh sandbox (for the operator).
    Shell { arch: String },
}

pub fn images_dir(config: &iotpot_core::Config) -> PathBuf {
    if config.iotbox.images.is_empty() {
        config.data_dir.join("images")
    } else {
        PathBuf::from(&config.iotbox.images)
    }
}

fn arch(name: &str) -> anyhow::Result<&'static BoxArch> {
    BoxArch::by_name(name).ok_or_else(|| {
        anyhow::anyhow!(
            "unknown architecture {name:?} (known: {})",
            ARCHES.iter().map(|a| a.name).collect::<Vec<_>>().join(", ")
        )
    })
}

struct Bar(indicatif::ProgressBar);

impl image::Progress for Bar {
    fn step(&self, arch: &str, what: &str) {
        self.0.set_message(format!("{arch}: {what}"));
        if what == "done" {
            self.0.inc(1);
        }
    }
}

pub fn run(cmd: BoxCmd, config: Option<&Path>) -> anyhow::Result<()> {
    let config = super::load_config(config)?;
    let images = images_dir(&config);
    match cmd {
        BoxCmd::Build { arch: names } => {
            let list: Vec<&'static BoxArch> = if names.is_empty() {
                ARCHES.iter().collect()
            } else {
                names
                    .iter()
                    .map(|n| arch(n))
                    .collect::<anyhow::Result<_>>()?
            };
            std::fs::create_dir_all(&images)?;
            let cache = images.join(".cache");
            let bar = indicatif::ProgressBar::new(list.len() as u64).with_style(
                indicatif::ProgressStyle::with_template("{spinner} [{pos}/{len}] {elapsed} {msg}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
            );
            bar.enable_steady_tick(Duration::from_millis(120));
            let bar = Bar(bar);
            for a in list {
                let started = Instant::now();
                let img = image::build(&images, &cache, a, &bar)?;
                bar.0.println(format!(
                    "{:<9} {}  busybox {}  ({:.0} s)",
                    a.name,
                    img.manifest.kernel_package,
                    img.manifest.busybox_version,
                    started.elapsed().as_secs_f64()
                ));
            }
            bar.0.finish_and_clear();
            println!("images in {}", images.display());
        }
        BoxCmd::List => {
            println!("{:<9}  {:<8}  {:<22}  KERNEL", "ARCH", "DEBIAN", "QEMU");
            for a in ARCHES {
                let built = Image::load(&images, a, false)
                    .map(|i| {
                        format!(
                            "{} {}",
                            i.manifest.kernel_package, i.manifest.kernel_version
                        )
                    })
                    .unwrap_or_else(|_| "(not built)".into());
                println!("{:<9}  {:<8}  {:<22}  {built}", a.name, a.debian, a.qemu);
            }
        }
        BoxCmd::Status => {
            for a in ARCHES {
                let qemu = std::process::Command::new(a.qemu)
                    .arg("--version")
                    .output()
                    .ok()
                    .filter(|o| o.status.success())
                    .map(|o| {
                        String::from_utf8_lossy(&o.stdout)
                            .lines()
                            .next()
                            .unwrap_or("")
                            .to_string()
                    });
                let image = match Image::load(&images, a, true) {
                    Ok(i) => {
                        let t = template::path(&i).ok().filter(|p| p.exists());
                        format!(
                            "image ok, template {}",
                            if t.is_some() { "ready" } else { "not made yet" }
                        )
                    }
                    Err(e) => format!("{e:#}"),
                };
                println!(
                    "{:<9} {}; {}",
                    a.name,
                    qemu.unwrap_or_else(|| format!("{} missing", a.qemu)),
                    image
                );
            }
        }
        BoxCmd::Shell { arch: name } => {
            let a = arch(&name)?;
            let img = Image::load(&images, a, true)?;
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            rt.block_on(shell(img))?;
        }
    }
    Ok(())
}

async fn shell(img: Image) -> anyhow::Result<()> {
    let run_dir = std::env::temp_dir().join(format!("iotpot-box-{}", std::process::id()));
    let tmpl = template::ensure(&img, &run_dir).await?;
    let started = Instant::now();
    let mut vm = Vm::start(&img, &run_dir.join("shell"), Some(&tmpl)).await?;
    eprintln!(
        "{} sandbox ready in {:.2} s (restored from its template; nothing you do here lasts). exit or ^D to leave.",
        img.arch.name,
        started.elapsed().as_secs_f64()
    );
    let stdin = std::io::stdin();
    loop {
        eprint!("{}# ", img.arch.name);
        let mut line = String::new();
        if stdin.lock().read_line(&mut line)? == 0 || line.trim() == "exit" {
            break;
        }
        match vm
            .run(line.trim_end().as_bytes(), Duration::from_secs(30))
            .await
        {
            Ok(a) => {
                std::io::stdout().write_all(&a.output)?;
                std::io::stdout().flush()?;
            }
            Err(e) => eprintln!("({e})"),
        }
    }
    vm.kill().await;
    let _ = std::fs::remove_dir_all(&run_dir);
    Ok(())
}
