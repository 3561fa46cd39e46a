"""2024-05-18 handlers (projects): not written yet; its operations answer InvalidApi.NotFound."""
