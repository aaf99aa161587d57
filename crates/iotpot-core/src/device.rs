//! One address, one device. A real host shows one device: its Telnet, its
//! web server and (on a Netis/Netcore router) its 53413/UDP backdoor are
//! faces of the same firmware. So the listeners on one address wear one
//! device:
//!
//! - a listener that names a profile wears it;
//! - listeners that name none take the device the others on their address
//!   name, or, when none does, one device chosen once per deployment
//!   among the built-ins that show the most of the address's services;
//! - a listener whose service that device does not have is not opened (its
//!   reason is logged): a DVR has no 53413 backdoor.
//!
//! A wildcard address (`0.0.0.0`, `::`) is every address of its family, so
//! it shares its device with the specific addresses of that family.
//! [`mixed`] names the addresses a configuration gives two devices.

use crate::config::{Listen, Service};
use crate::deployment::Deployment;
use crate::profile::{Profile, ProfileError};
use std::collections::BTreeMap;
use std::net::IpAddr;

/// What one listener wears.
#[derive(Debug, Clone)]
pub enum Wear {
    Profile(Box<Profile>),
    /// Not opened: the address's device has no such face (why, for the log).
    Skip(String),
}

/// The address group of each listener (see the module doc).
fn groups(listen: &[Listen]) -> Vec<String> {
    let family = |ip: IpAddr| if ip.is_ipv4() { "*v4" } else { "*v6" };
    let wild: Vec<&str> = listen
        .iter()
        .filter(|l| l.address.ip().is_unspecified())
        .map(|l| family(l.address.ip()))
        .collect();
    listen
        .iter()
        .map(|l| {
            let ip = l.address.ip();
            if wild.contains(&family(ip)) {
                family(ip).to_string()
            } else {
                ip.to_string()
            }
        })
        .collect()
}

/// The profile of every listener of `listen` (in order).
pub fn assign(listen: &[Listen], deployment: &Deployment) -> Result<Vec<Wear>, ProfileError> {
    let keys = groups(listen);
    let named = listen
        .iter()
        .map(|l| l.profile.as_deref().map(Profile::load).transpose())
        .collect::<Result<Vec<_>, _>>()?;
    let mut device: BTreeMap<&str, Profile> = BTreeMap::new();
    // Named first: the address's device is the one its listeners name.
    for (p, key) in named.iter().zip(&keys) {
        if let Some(p) = p {
            device.entry(key).or_insert_with(|| p.clone());
        }
    }
    let builtins = Profile::builtins();
    let mut out = Vec::with_capacity(listen.len());
    for ((l, key), p) in listen.iter().zip(&keys).zip(named) {
        if let Some(p) = p {
            out.push(Wear::Profile(Box::new(p)));
            continue;
        }
        if !device.contains_key(key.as_str()) {
            if let Some(d) = choose(&builtins, listen, &keys, key, deployment) {
                device.insert(key, d);
            }
        }
        out.push(match device.get(key.as_str()) {
            Some(d) => wear(&builtins, d, l),
            None => Wear::Skip(format!("{}: no built-in device", l.address)),
        });
    }
    Ok(out)
}

/// A device's face for listener `l`: itself, or the profile of the same
/// device that has that face (`dvr` is the web face of `dvr-xiongmai`).
fn wear(builtins: &[Profile], d: &Profile, l: &Listen) -> Wear {
    if d.has_face(l.service) {
        return Wear::Profile(Box::new(d.clone()));
    }
    if let Some(face) = builtins
        .iter()
        .find(|p| p.device == d.device && p.has_face(l.service))
    {
        return Wear::Profile(Box::new(face.clone()));
    }
    Wear::Skip(format!(
        "{} ({}) is not opened: its address shows {}, a {} with no {} (one address, one device); \
         give it its own address, or name the profile of a device that has one",
        l.address,
        l.service.name(),
        d.device,
        d.device_type,
        match l.service {
            Service::Telnet => "Telnet",
            Service::Http => "web server",
            Service::Netis => "53413/udp backdoor",
            Service::Sensors => "sensors' link",
        }
    ))
}

/// The device of address group `key`: among the built-ins that show the
/// most of the group's services (counting each device once, with all its
/// faces), the one this deployment picks.
fn choose(
    builtins: &[Profile],
    listen: &[Listen],
    keys: &[String],
    key: &str,
    deployment: &Deployment,
) -> Option<Profile> {
    let mut services: Vec<Service> = Vec::new();
    for (l, k) in listen.iter().zip(keys) {
        if k == key && !services.contains(&l.service) {
            services.push(l.service);
        }
    }
    // A device's faces may be spread over profiles that extend each other.
    let covers =
        |device: &str, s: Service| builtins.iter().any(|p| p.device == device && p.has_face(s));
    let mut devices: Vec<&Profile> = builtins.iter().filter(|p| p.device == p.name).collect();
    let score = |p: &Profile| services.iter().filter(|s| covers(&p.device, **s)).count();
    let best = devices.iter().map(|p| score(p)).max().unwrap_or(0);
    devices.retain(|p| score(p) == best);
    let pick = (deployment.derive("listen", &format!("device {key}")) % devices.len().max(1) as u64)
        as usize;
    devices.get(pick).map(|p| (*p).clone())
}

/// The addresses whose listeners name more than one device (a real host
/// is one device): one sentence each, for `iotpot config check` and the log.
pub fn mixed(listen: &[Listen]) -> Result<Vec<String>, ProfileError> {
    let keys = groups(listen);
    // Per address, its devices in the order the configuration names them.
    let mut named: BTreeMap<&str, Vec<(String, Vec<String>)>> = BTreeMap::new();
    for (l, key) in listen.iter().zip(&keys) {
        if let Some(name) = &l.profile {
            let p = Profile::load(name)?;
            let devices = named.entry(key).or_default();
            let face = format!("{} {} as {}", l.service.name(), l.address, p.name);
            match devices.iter_mut().find(|(d, _)| *d == p.device) {
                Some((_, faces)) => faces.push(face),
                None => devices.push((p.device.clone(), vec![face])),
            }
        }
    }
    Ok(named
        .into_iter()
        .filter(|(_, devices)| devices.len() > 1)
        .map(|(key, devices)| {
            let place = match key {
                "*v4" => "0.0.0.0 (every IPv4 address)".to_string(),
                "*v6" => ":: (every IPv6 address)".to_string(),
                ip => ip.to_string(),
            };
            let faces: Vec<String> = devices.into_iter().map(|(_, v)| v.join(", ")).collect();
            format!(
                "{place} shows {} devices ({}): a real host is one device, and a scan that sees both gives the honeypot away",
                faces.len(),
                faces.join("; ")
            )
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listen(service: Service, addr: &str, profile: Option<&str>) -> Listen {
        Listen {
            service,
            address: addr.parse().unwrap(),
            profile: profile.map(str::to_string),
            proxy_protocol: false,
        }
    }

    fn name(w: &Wear) -> &str {
        match w {
            Wear::Profile(p) => &p.name,
            Wear::Skip(_) => "(skipped)",
        }
    }

    #[test]
    fn one_address_shows_one_device() {
        let l = [
            listen(Service::Telnet, "0.0.0.0:2323", None),
            listen(Service::Telnet, "0.0.0.0:23", None),
            listen(Service::Http, "0.0.0.0:8080", None),
        ];
        for seed in 0..20u8 {
            let w = assign(&l, &Deployment::from_seed([seed; 32])).unwrap();
            let devices: Vec<String> = w
                .iter()
                .map(|w| match w {
                    Wear::Profile(p) => p.device.clone(),
                    Wear::Skip(why) => panic!("{why}"),
                })
                .collect();
            assert!(devices.iter().all(|d| *d == devices[0]), "{devices:?}");
            // The web listener wears a profile that has a web server.
            let Wear::Profile(web) = &w[2] else { panic!() };
            assert!(web.has_face(Service::Http), "{}", web.name);
        }
    }

    #[test]
    fn a_named_profile_sets_its_address_device() {
        let l = [
            listen(Service::Telnet, "127.0.0.1:2323", Some("dvr-xiongmai")),
            listen(Service::Http, "127.0.0.1:8080", None),
            listen(Service::Netis, "127.0.0.1:53413", None),
            listen(Service::Netis, "127.0.0.2:53413", None),
        ];
        let w = assign(&l, &Deployment::from_seed([7; 32])).unwrap();
        // The DVR's web face is `dvr`; it has no backdoor; the other
        // address is a device of its own (one with the backdoor).
        assert_eq!(
            w.iter().map(name).collect::<Vec<_>>(),
            ["dvr-xiongmai", "dvr", "(skipped)", "router-netis"]
        );
    }

    #[test]
    fn wildcards_share_their_device_with_specific_addresses() {
        let l = [
            listen(Service::Telnet, "0.0.0.0:23", Some("router-tplink")),
            listen(Service::Http, "127.0.0.1:8080", Some("camera-open")),
            listen(Service::Http, "[::1]:8080", Some("camera-open")),
        ];
        let m = mixed(&l).unwrap();
        assert_eq!(m.len(), 1, "{m:?}");
        assert!(
            m[0].starts_with("0.0.0.0 (every IPv4 address) shows 2 devices"),
            "{m:?}"
        );
        assert!(mixed(&l[1..]).unwrap().is_empty());
        // A device's faces are one device.
        let same = [
            listen(Service::Telnet, "127.0.0.1:23", Some("dvr-xiongmai")),
            listen(Service::Http, "127.0.0.1:80", Some("dvr")),
        ];
        assert!(mixed(&same).unwrap().is_empty());
    }
}
