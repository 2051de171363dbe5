"""Page scripts for `st.navigation`: files, so tests can switch to them with AppTest."""
