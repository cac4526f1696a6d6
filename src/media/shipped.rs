//! Image files shipped inside the binary: the demo's pictures and its
//! authors' avatars, served (and cut into renditions) at the paths the
//! demo content links, whatever the storage holds. All but the seed
//! article's photograph are drawn by `src/seed/media/generate.py`.

use std::sync::OnceLock;

/// A shipped file: its key under `/media/` and its bytes (already clean:
/// no metadata, upright).
pub struct Shipped {
    pub key: &'static str,
    pub bytes: &'static [u8],
}

pub const FILES: &[Shipped] = &[
    Shipped {
        key: "2023/11/2147034_dsc_0597_11282810.jpg",
        bytes: include_bytes!("../seed/media/2147034_dsc_0597_11282810.jpg"),
    },
    Shipped {
        key: "2024/04/vinh-phuc-hoi-nghi-thalassemia.jpg",
        bytes: include_bytes!("../seed/media/vinh-phuc-hoi-nghi-thalassemia.jpg"),
    },
    Shipped {
        key: "2024/04/hoi-thao-gia-hoa-dan-so-ninh-binh.jpg",
        bytes: include_bytes!("../seed/media/hoi-thao-gia-hoa-dan-so-ninh-binh.jpg"),
    },
    Shipped {
        key: "2024/04/ra-quan-dieu-tra-dan-so-giua-ky-2024.jpg",
        bytes: include_bytes!("../seed/media/ra-quan-dieu-tra-dan-so-giua-ky-2024.jpg"),
    },
    Shipped {
        key: "2024/05/da-nang-lam-sach-bai-bien.webp",
        bytes: include_bytes!("../seed/media/da-nang-lam-sach-bai-bien.webp"),
    },
    Shipped {
        key: "2024/09/can-tho-sat-lo-bo-song.jpg",
        bytes: include_bytes!("../seed/media/can-tho-sat-lo-bo-song.jpg"),
    },
    Shipped {
        key: "2024/03/ha-noi-cho-thanh-toan-qr.jpg",
        bytes: include_bytes!("../seed/media/ha-noi-cho-thanh-toan-qr.jpg"),
    },
    Shipped {
        key: "2024/10/dak-lak-thu-hoach-ca-phe.jpg",
        bytes: include_bytes!("../seed/media/dak-lak-thu-hoach-ca-phe.jpg"),
    },
    Shipped {
        key: "2024/02/ha-noi-tram-y-te-ho-so-dien-tu.jpg",
        bytes: include_bytes!("../seed/media/ha-noi-tram-y-te-ho-so-dien-tu.jpg"),
    },
    Shipped {
        key: "2024/07/sang-loc-so-sinh.jpg",
        bytes: include_bytes!("../seed/media/sang-loc-so-sinh.jpg"),
    },
    Shipped {
        key: "2024/09/bua-sang-du-chat-infographic.png",
        bytes: include_bytes!("../seed/media/bua-sang-du-chat-infographic.png"),
    },
    Shipped {
        key: "2024/08/can-tho-dao-tao-nghe.jpg",
        bytes: include_bytes!("../seed/media/can-tho-dao-tao-nghe.jpg"),
    },
    Shipped {
        key: "authors/tran-thanh-mai.jpg",
        bytes: include_bytes!("../seed/media/authors/tran-thanh-mai.jpg"),
    },
    Shipped {
        key: "authors/nguyen-thi-hong-nhung.jpg",
        bytes: include_bytes!("../seed/media/authors/nguyen-thi-hong-nhung.jpg"),
    },
    Shipped {
        key: "authors/le-van-duc.jpg",
        bytes: include_bytes!("../seed/media/authors/le-van-duc.jpg"),
    },
    Shipped {
        key: "authors/pham-quoc-hung.jpg",
        bytes: include_bytes!("../seed/media/authors/pham-quoc-hung.jpg"),
    },
    Shipped {
        key: "authors/vo-thi-anh-tuyet.jpg",
        bytes: include_bytes!("../seed/media/authors/vo-thi-anh-tuyet.jpg"),
    },
    Shipped {
        key: "authors/dang-minh-khoi.jpg",
        bytes: include_bytes!("../seed/media/authors/dang-minh-khoi.jpg"),
    },
];

/// What the seed records of a shipped file.
#[derive(Debug, Clone)]
pub struct Facts {
    pub hash: String,
    pub width: u32,
    pub height: u32,
    pub placeholder: String,
}

/// Each file's facts, worked out on first use (a decode each).
static FACTS: [OnceLock<Facts>; FILES.len()] = [const { OnceLock::new() }; FILES.len()];

fn facts_of(i: usize) -> &'static Facts {
    FACTS[i].get_or_init(|| {
        let bytes = FILES[i].bytes;
        let image = image::load_from_memory(bytes).expect("a shipped image decodes");
        Facts {
            hash: crate::media::content_hash(bytes),
            width: image.width(),
            height: image.height(),
            placeholder: crate::media::process::placeholder(&image),
        }
    })
}

/// The bytes of shipped file `key`.
pub fn bytes(key: &str) -> Option<&'static [u8]> {
    FILES.iter().find(|f| f.key == key).map(|f| f.bytes)
}

/// Facts of the shipped file at site path `url` (`/media/…`).
pub fn facts(url: &str) -> Option<(&'static str, Facts)> {
    let key = url.strip_prefix("/media/")?;
    let i = FILES.iter().position(|f| f.key == key)?;
    Some((FILES[i].key, facts_of(i).clone()))
}

/// The shipped file whose content hash is `hash`.
pub fn by_hash(hash: &str) -> Option<(&'static str, Facts)> {
    // Hashing is cheap next to decoding: only the match is decoded.
    static HASHES: OnceLock<Vec<String>> = OnceLock::new();
    let i = HASHES
        .get_or_init(|| {
            FILES
                .iter()
                .map(|f| crate::media::content_hash(f.bytes))
                .collect()
        })
        .iter()
        .position(|h| h == hash)?;
    Some((FILES[i].key, facts_of(i).clone()))
}
