//! Image files shipped inside the binary: the demo's pictures, served (and
//! cut into renditions) at the paths the demo content links, whatever the
//! storage holds.

use std::sync::LazyLock;

/// A shipped file: its key under `/media/` and its bytes (already clean:
/// no metadata, upright).
pub struct Shipped {
    pub key: &'static str,
    pub bytes: &'static [u8],
}

pub const FILES: &[Shipped] = &[Shipped {
    key: "2023/11/2147034_dsc_0597_11282810.jpg",
    bytes: include_bytes!("../seed/media/2147034_dsc_0597_11282810.jpg"),
}];

/// What the seed records of a shipped file.
#[derive(Debug, Clone)]
pub struct Facts {
    pub hash: String,
    pub width: u32,
    pub height: u32,
    pub placeholder: String,
}

static FACTS: LazyLock<Vec<Facts>> = LazyLock::new(|| {
    FILES
        .iter()
        .map(|f| {
            let image = image::load_from_memory(f.bytes).expect("a shipped image decodes");
            Facts {
                hash: crate::media::content_hash(f.bytes),
                width: image.width(),
                height: image.height(),
                placeholder: crate::media::process::placeholder(&image),
            }
        })
        .collect()
});

/// The bytes of shipped file `key`.
pub fn bytes(key: &str) -> Option<&'static [u8]> {
    FILES.iter().find(|f| f.key == key).map(|f| f.bytes)
}

/// Facts of the shipped file at site path `url` (`/media/…`).
pub fn facts(url: &str) -> Option<(&'static str, Facts)> {
    let key = url.strip_prefix("/media/")?;
    let i = FILES.iter().position(|f| f.key == key)?;
    Some((FILES[i].key, FACTS[i].clone()))
}
