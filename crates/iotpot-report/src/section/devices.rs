//! 4. The attackers' device types (the 2016 paper's Table 1 and Fig. 3),
//!    from the profiler's scans of them: the share identified, and the
//!    hosts already owned by a known worm.

use super::{count, rows, single, table, Kind, Section, TOP};
use crate::Window;
use iotpot_store::sql::Db;

const HOSTS: &str = "FROM profiler_hosts WHERE scanned >= ?1 AND scanned < ?2";

pub fn build(conn: &dyn Db, w: &Window) -> anyhow::Result<Section> {
    let types = rows(
        conn,
        w,
        &format!(
            "SELECT COALESCE(device, CASE WHEN reachable <> 0 THEN 'not identified' ELSE 'not reachable' END) AS d,
                COUNT(*) AS n {HOSTS} GROUP BY d ORDER BY n DESC, d"
        ))?;
    let scanned = count(conn, w, &format!("SELECT COUNT(*) {HOSTS}"))?;
    let named = count(
        conn,
        w,
        &format!("SELECT COUNT(*) {HOSTS} AND device IS NOT NULL"),
    )?;
    let infected = count(
        conn,
        w,
        &format!("SELECT COUNT(*) {HOSTS} AND infected IS NOT NULL"),
    )?;
    let vendors = table(
        conn,
        w,
        "Vendors and products",
        &["device", "vendor", "product", "hosts"],
        &format!(
            "SELECT device, vendor, product, COUNT(*) AS n {HOSTS} AND device IS NOT NULL
             GROUP BY device, vendor, product
             ORDER BY n DESC, COALESCE(device, ''), COALESCE(vendor, ''), COALESCE(product, '') LIMIT {TOP}"
        ),
    )?;
    let worms = table(
        conn,
        w,
        "Hosts owned by a known worm",
        &["infected by", "hosts"],
        &format!("SELECT infected, COUNT(*) AS n {HOSTS} AND infected IS NOT NULL GROUP BY infected ORDER BY n DESC, infected"),
    )?;
    let share = if scanned > 0 {
        format!(
            "{scanned} attacking hosts scanned back; {named} named ({:.1}%), {infected} flagged infected by a known worm.",
            100.0 * named as f64 / scanned as f64
        )
    } else {
        "No attacking host was scanned back in the period (the profiler is off, or has not run yet).".into()
    };
    Ok(Section {
        id: "devices",
        title: "Device types of the attackers",
        charts: vec![single(
            "Attacking hosts by device type",
            Kind::Bars,
            "hosts",
            &types,
        )],
        tables: vec![
            crate::Table {
                title: "Device types".into(),
                columns: vec!["device type".into(), "hosts".into()],
                rows: types,
            },
            vendors,
            worms,
        ],
        trees: vec![],
        notes: vec![share],
    })
}
