//! A central's sensors as its config says: each sensor's faces, the
//! central's services that serve them (one per service and profile,
//! whichever sensor's face it is), and the plans pushed to the sensors,
//! again whenever the config is read again (SIGHUP).

use iotpot_core::config::Service;
use iotpot_core::deployment::Deployment;
use iotpot_core::device::{self, Wear};
use iotpot_core::profile::Persona;
use iotpot_core::Config;
use iotpot_frontend::{ListenerSpec, Relay, RelayTarget};
use iotpot_proxy::central::{Plan, Route};
use iotpot_proxy::control::{Device, Face, Listeners};
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;

/// A sensor face's service on the central: the service and the profile it
/// answers as.
pub type Key = (Service, String);

/// One sensor's faces, as the config says.
pub struct Wanted {
    pub name: String,
    pub faces: Vec<(Face, Persona)>,
}

/// Every sensor's faces in `config` (a face whose profile cannot serve
/// its service is skipped, with a log line, as for local listeners).
pub fn wanted(config: &Config, deployment: &Deployment) -> anyhow::Result<Vec<Wanted>> {
    let mut out = Vec::new();
    for s in config.sensors() {
        let mut faces = Vec::new();
        for (l, wear) in s.listen.iter().zip(device::assign(&s.listen, deployment)?) {
            match wear {
                Wear::Profile(profile) => faces.push((
                    Face {
                        service: l.service,
                        address: l.address,
                        profile: profile.name.clone(),
                    },
                    profile.instantiate(deployment),
                )),
                Wear::Skip(why) => tracing::warn!(sensor = %s.name, "{why}"),
            }
        }
        out.push(Wanted {
            name: s.name.clone(),
            faces,
        });
    }
    Ok(out)
}

/// The services `wanted` needs that `bound` does not have yet.
pub fn missing(wanted: &[Wanted], bound: &HashMap<Key, RelayTarget>) -> Vec<(Key, ListenerSpec)> {
    let mut out: Vec<(Key, ListenerSpec)> = Vec::new();
    for (face, persona) in wanted.iter().flat_map(|w| &w.faces) {
        let key = (face.service, face.profile.clone());
        if bound.contains_key(&key) || out.iter().any(|(k, _)| *k == key) {
            continue;
        }
        out.push((
            key,
            ListenerSpec {
                service: face.service,
                address: SocketAddr::from(([127, 0, 0, 1], 0)),
                proxy_protocol: false,
                relay: Relay::Direct,
                persona: persona.clone(),
            },
        ));
    }
    out
}

/// Each sensor's plan: its routes to `bound`, and what it is told.
pub fn plans(
    wanted: Vec<Wanted>,
    bound: &HashMap<Key, RelayTarget>,
    deployment: &Deployment,
) -> HashMap<String, Plan> {
    wanted
        .into_iter()
        .map(|w| {
            let mut routes = Vec::new();
            let mut profiles = BTreeMap::new();
            for (face, persona) in w.faces {
                let Some(to) = bound.get(&(face.service, face.profile.clone())) else {
                    continue;
                };
                profiles
                    .entry(face.profile.clone())
                    .or_insert_with(|| Device::new(&persona.profile));
                routes.push(Route {
                    face,
                    to: to.clone(),
                });
            }
            let listeners = Listeners {
                listen: routes.iter().map(|r| r.face.clone()).collect(),
                seed: deployment.seed_hex(),
                profiles,
            };
            (w.name, Plan { routes, listeners })
        })
        .collect()
}
