//! [`OpenOptions`]: how to open a file, as with [`std::fs::OpenOptions`].

/// How a file is opened. The builder mirrors [`std::fs::OpenOptions`], so
/// `OpenOptions::new().read(true).append(true).create(true)` means what it
/// means there.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OpenOptions {
    pub(crate) read: bool,
    pub(crate) write: bool,
    pub(crate) append: bool,
    pub(crate) truncate: bool,
    pub(crate) create: bool,
    pub(crate) create_new: bool,
}

impl OpenOptions {
    /// Every option off.
    pub fn new() -> Self {
        Self::default()
    }

    /// Open for reading.
    pub fn read(&mut self, read: bool) -> &mut Self {
        self.read = read;
        self
    }

    /// Open for writing.
    pub fn write(&mut self, write: bool) -> &mut Self {
        self.write = write;
        self
    }

    /// Every write goes to the end of the file (`O_APPEND`). Implies write.
    pub fn append(&mut self, append: bool) -> &mut Self {
        self.append = append;
        self
    }

    /// Cut an existing file to length 0 when it is opened. Needs write.
    pub fn truncate(&mut self, truncate: bool) -> &mut Self {
        self.truncate = truncate;
        self
    }

    /// Create the file if it does not exist. Needs write or append.
    pub fn create(&mut self, create: bool) -> &mut Self {
        self.create = create;
        self
    }

    /// Create the file, and fail if it exists (`O_CREAT | O_EXCL`). Needs
    /// write or append.
    pub fn create_new(&mut self, create_new: bool) -> &mut Self {
        self.create_new = create_new;
        self
    }

    /// Whether writes are allowed.
    pub(crate) fn writable(&self) -> bool {
        self.write || self.append
    }

    /// The same options for [`std::fs`].
    pub(crate) fn to_std(self) -> std::fs::OpenOptions {
        let mut std = std::fs::OpenOptions::new();
        std.read(self.read)
            .write(self.write)
            .append(self.append)
            .truncate(self.truncate)
            .create(self.create)
            .create_new(self.create_new);
        std
    }

    /// The errors [`std::fs::OpenOptions::open`] gives for combinations it
    /// refuses, so that the simulated disk refuses the same ones.
    pub(crate) fn check(&self) -> std::io::Result<()> {
        let invalid = |why| Err(std::io::Error::new(std::io::ErrorKind::InvalidInput, why));
        if !self.read && !self.writable() {
            return invalid("open: neither read nor write was asked for");
        }
        if (self.create || self.create_new || self.truncate) && !self.writable() {
            return invalid("open: create and truncate need write or append");
        }
        if self.truncate && self.append && !self.write {
            return invalid("open: truncate together with append is refused");
        }
        Ok(())
    }
}
