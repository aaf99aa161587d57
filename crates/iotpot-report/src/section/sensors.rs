//! 10. Sensors: sessions per sensor and per profile, when there are
//!     several.

use super::{pivot, rows, Kind, Section};
use crate::Window;
use iotpot_store::sql::Db;

pub fn build(conn: &dyn Db, w: &Window) -> anyhow::Result<Section> {
    let r = rows(
        conn,
        w,
        "SELECT sensor, profile, SUM(n) FROM session_days
         WHERE day >= substr(?1, 1, 10) AND day < ?2 GROUP BY sensor, profile ORDER BY sensor, profile",
    )?;
    let chart = pivot("Sessions per sensor, by profile", Kind::Stacked, &r);
    let n = chart.labels.len();
    Ok(Section {
        id: "sensors",
        title: "Sensors",
        tables: vec![super::chart_table(&chart, "sensor")],
        charts: vec![chart],
        trees: vec![],
        notes: vec![format!(
            "{n} sensors (or honeypots) recorded sessions in the period."
        )],
    })
}
