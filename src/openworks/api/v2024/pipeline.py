"""2024-05-18 handlers (pipeline): not written yet; its operations answer InvalidApi.NotFound."""
