def pytest_configure(config):
    config.addinivalue_line('markers', 'colab_flow: the offline Colab-flow test (a fresh venv, package installs from the registry; 1–3 min)')
