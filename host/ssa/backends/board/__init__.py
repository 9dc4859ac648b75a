"""The PYNQ board backend: the overlay and DMA driver, and a simulated board that runs the same driver without hardware."""
