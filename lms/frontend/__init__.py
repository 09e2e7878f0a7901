"""What the browser receives besides pages: fingerprinted static assets, compression, offline reading."""
