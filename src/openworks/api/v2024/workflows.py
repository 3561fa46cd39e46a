"""2024-05-18 handlers (workflows): not written yet; its operations answer InvalidApi.NotFound."""
