"""2024-05-18 handlers (nodes): not written yet; its operations answer InvalidApi.NotFound."""
