"""Deployment tooling (`make deploy` / `make destroy`); never packaged into a Lambda."""
