//! ELF triage on real binaries: Debian's busybox-static for nine
//! architectures (fetched by scripts/test into $IOTPOT_ELF_CORPUS).

use iotpot_downloader::triage::triage;

#[test]
fn debian_busybox_static_of_every_architecture() {
    let corpus = std::env::var("IOTPOT_ELF_CORPUS").unwrap_or_else(|_| {
        let home = std::env::var("HOME").unwrap_or_default();
        format!("{home}/.cache/iotpot/elf-corpus")
    });
    let expect = [
        ("armel", "arm", 32, "le"),
        ("armhf", "arm7", 32, "le"),
        ("arm64", "aarch64", 64, "le"),
        ("i386", "x86", 32, "le"),
        ("amd64", "x86_64", 64, "le"),
        ("mipsel", "mipsel", 32, "le"),
        ("mips64el", "mips64el", 64, "le"),
        ("ppc64el", "ppc64el", 64, "le"),
        ("s390x", "s390x", 64, "be"),
    ];
    for (deb, arch, bits, endian) in expect {
        let path = format!("{corpus}/{deb}/busybox");
        let bytes = std::fs::read(&path)
            .unwrap_or_else(|e| panic!("{path}: {e}: run the README's test command (scripts/test), which fetches the corpus"));
        let t = triage(&bytes);
        assert_eq!(t.kind, "elf", "{deb}");
        assert_eq!(t.arch.as_deref(), Some(arch), "{deb}");
        assert_eq!(t.bits, Some(bits), "{deb}");
        assert_eq!(t.endian.as_deref(), Some(endian), "{deb}");
        assert_eq!(
            t.static_linked,
            Some(true),
            "{deb}: busybox-static is static"
        );
        assert!(t.interpreter.is_none(), "{deb}");
        assert!(!t.upx, "{deb}");
        if deb.starts_with("arm") && deb != "arm64" {
            assert_eq!(t.arm_eabi, Some(5), "{deb}");
        }
    }
}
