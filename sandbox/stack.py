"""Start and stop the whole local stack; everything binds to 127.0.0.1.

Order matters: moto first (seeded), then the emulators and the Lambda host they invoke, then
`chalice local`, then the front server, which is what makes the stack "ready".
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from sandbox import resources
from sandbox.connect.api import router as connect_router
from sandbox.connect.attachments import AttachmentService
from sandbox.connect.model import ConnectModel
from sandbox.connect.processing import MessageProcessing
from sandbox.connect.streaming import StreamDelivery
from sandbox.customer import MetaCustomers
from sandbox.graph import GraphEmulator
from sandbox.httpkit import serve, url_of
from sandbox.ivr_panel import IvrPanel
from sandbox.lambdas import LambdaInvoker
from sandbox.ports import HOST, Reservations
from sandbox.web import SandboxSite
from sandbox.webchat import WebChat

PROJECT_DIR = resources.PROJECT_DIR
START_TIMEOUT = 60.0


@dataclass
class Ports:
    front: int = 8000
    app: int = 0
    moto: int = 0
    connect: int = 0
    graph: int = 0
    lambda_host: int = 0
    dynamodb_proxy: int = 0  # only with faults: DynamoDB through the fault proxy in front of moto


@dataclass
class Options:
    ports: Ports = field(default_factory=Ports)
    connection_ttl_seconds: float = 86400.0
    log: IO[str] = field(default_factory=lambda: sys.stderr)
    # `make local`: `chalice local` itself on ports.front (no page, no proxy); the sandbox API on a free port,
    # for tools/messenger_send.py, which finds both in state_file.
    local: bool = False
    state_file: Path | None = None
    faults: Any = None  # sandbox.faults.Faults: `make chaos` injects faults into the emulators
    # Origins of other CDN stand-ins the app may download customer files from (the page's own is always on).
    cdn_origins: tuple[str, ...] = ()


class Stack:
    def __init__(self, options: Options):
        self.options = options
        self.urls: dict[str, str] = {}
        self._servers: list = []
        self._processes: list[subprocess.Popen] = []
        self._stopping = threading.Event()
        self._ports = Reservations()  # each port held from its choice until stop(): no other socket takes it

    # ------------------------------------------------------------------------------------- start

    def reserve_ports(self) -> Ports:
        """Every server's port, chosen and held now (sandbox/ports.py); a busy fixed port raises PortInUse."""
        ports = self.options.ports
        if self.options.local:
            ports.app, ports.front = ports.front, 0
        for name in ("front", "app", "moto", "connect", "graph", "lambda_host") + (
            ("dynamodb_proxy",) if self.options.faults else ()
        ):
            setattr(ports, name, self._ports.take(getattr(ports, name)))
        return ports

    def start(self) -> dict[str, str]:
        ports = self.reserve_ports()
        faults = self.options.faults
        stage = resources.LocalStage.load()
        moto_url, connect_url, graph_url = (
            f"http://{HOST}:{port}" for port in (ports.moto, ports.connect, ports.graph)
        )
        app_url, lambda_url = f"http://{HOST}:{ports.app}", f"http://{HOST}:{ports.lambda_host}"

        # The app's processes take seconds to import; they start first and need the rest only when called.
        env = self._app_environment(moto_url, connect_url, graph_url)
        if faults is not None:
            env["AWS_ENDPOINT_URL_DYNAMODB"] = f"http://{HOST}:{ports.dynamodb_proxy}"
        # The app downloads customer files from Meta's CDN hosts only; here the CDN is this page (and the
        # chaos run's stand-in): exact origins, which the app trusts as written (docs/configuration.md).
        env["ATTACHMENT_DOWNLOAD_HOSTS"] = ",".join((f"http://{HOST}:{ports.front}", *self.options.cdn_origins))
        env.update(self._start_clamd())
        lambda_host = self._spawn(
            [sys.executable, "-m", "sandbox.lambda_host", "--port", str(ports.lambda_host)], env, "lambda"
        )
        chalice = self._spawn(
            [
                str(Path(sys.executable).with_name("chalice")),
                "local",
                "--stage",
                "local",
                "--host",
                HOST,
                "--port",
                str(ports.app),
                "--no-autoreload",
            ],
            env,
            "app",
        )

        from moto.server import ThreadedMotoServer  # imported here: its second of imports overlaps the app's

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's per-request lines
        self._moto = ThreadedMotoServer(ip_address=HOST, port=ports.moto, verbose=False)
        self._moto.start()
        ivr_key = resources.new_ivr_key()
        resources.seed(moto_url, stage, ivr_key)
        if faults is not None:
            self._servers.append(serve("dynamodb-faults", HOST, ports.dynamodb_proxy, faults.dynamodb_proxy(moto_url)))
        s3 = _moto_client("s3", moto_url)
        sns = _moto_client("sns", moto_url)

        invoker = LambdaInvoker(lambda_url)
        stream = StreamDelivery(invoker, stage.topic_arn, stage.instance_id)

        def publish(chat, item: dict) -> None:  # Connect publishes each item to every streaming topic of the chat
            for topic in chat.topics:
                stream.publish(topic, item)

        processing = MessageProcessing(invoker, stage.instance_id, resources.REGION, resources.ACCOUNT_ID)
        model = ConnectModel(
            stage.instance_id,
            stage.contact_flow_id,
            lambda arn: _topic_exists(sns, arn),
            publish,
            connection_ttl_seconds=self.options.connection_ttl_seconds,
            processing=processing,
        )
        attachments = AttachmentService(
            model, s3, resources.ATTACHMENTS_BUCKET, resources.ATTACHMENTS_PREFIX, invoker, connect_url
        )
        connect_routes, graph_routes = connect_router(model, attachments, s3), None
        secret = resources.MESSENGER_SECRET
        graph = GraphEmulator(tuple(secret["PAGE_TOKENS"].values()), secret["APP_SECRET"])
        graph_routes = graph.router()
        if faults is not None:
            connect_routes, graph_routes = faults.connect(connect_routes), faults.graph(graph_routes)
        self._servers.append(serve("connect-emulator", HOST, ports.connect, connect_routes))
        self._servers.append(serve("graph-emulator", HOST, ports.graph, graph_routes))
        # What a driver of the running stack (sandbox/chaos.py) looks at.
        self.model, self.graph, self.stream, self.attachments, self.s3 = model, graph, stream, attachments, s3

        _wait_http(f"{lambda_url}/health", lambda_host, "the Lambda host")
        _wait_http(f"{app_url}/health", chalice, "chalice local")

        front_url = f"http://{HOST}:{ports.front}"
        customers = MetaCustomers(f"{app_url}/webhook/messenger", secret["APP_SECRET"], f"{front_url}/sandbox/cdn")
        site = SandboxSite(
            app_url,
            model,
            attachments,
            stream,
            graph,
            customers,
            IvrPanel(invoker, ivr_key, stage.instance_id),
            s3,
            resources.ATTACHMENTS_BUCKET,
            page=not self.options.local,
            webchat=WebChat(model, processing, resources.REGION, resources.ACCOUNT_ID),
        )
        front = serve("sandbox-front", HOST, ports.front, site.router())
        self._servers.append(front)
        threading.Thread(target=self._tick, args=(model,), name="connect-clock", daemon=True).start()
        threading.Thread(target=self._warm_up, args=(site,), name="warm-up", daemon=True).start()
        self.urls = {
            "sandbox": f"{url_of(front)}/sandbox/",
            "app": app_url,
            "moto": moto_url,
            "connect": connect_url,
            "graph": graph_url,
            "lambda_host": lambda_url,
        }
        if self.options.local:
            self.urls = {
                "webhook": f"{app_url}/webhook/messenger",
                "app": app_url,
                "api": url_of(front),
                "moto": moto_url,
                "connect": connect_url,
                "graph": graph_url,
                "lambda_host": lambda_url,
            }
        if self.options.state_file is not None:
            # Local sandbox values only (sandbox/resources.py): what a client needs to sign and to look.
            state = {
                **self.urls,
                "app_secret": secret["APP_SECRET"],
                "verify_token": secret["VERIFY_TOKEN"],
                "pid": os.getpid(),
            }
            self.options.state_file.write_text(json.dumps(state, indent=2) + "\n")
        return self.urls

    def _start_clamd(self) -> dict[str, str]:
        """Debian's clamd with the repository's test signatures (sandbox/clamd.py), so that the scanner runs
        with `SCAN_ANTIVIRUS=clamav` as in production and an EICAR file is rejected as malware. Without
        clamd installed (`make clamav`), the scanner runs its structure checks only, and says so."""
        from sandbox import clamd

        if clamd.binary() is None:
            self.options.log.write(
                "[clamd] not installed (make clamav): the scanner runs without an antivirus engine\n"
            )
            return {"SCAN_ANTIVIRUS": "off"}
        try:
            self._clamd = clamd.LocalClamd().start()
        except RuntimeError as exc:
            self.options.log.write(f"[clamd] did not start ({exc}): the scanner runs without an antivirus engine\n")
            return {"SCAN_ANTIVIRUS": "off"}
        self.options.log.write(f"[clamd] ready at {self._clamd.address} with the test signatures\n")
        return {"SCAN_ANTIVIRUS": "clamav", "SCAN_CLAMAV_ADDRESS": self._clamd.address}

    def _app_environment(self, moto_url: str, connect_url: str, graph_url: str) -> dict[str, str]:
        """What the app's processes see: every AWS service on this machine, dummy credentials."""
        env = {
            k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k not in ("GRAPH_API_URL", "PYTHONPATH")
        }
        env.update(
            {
                "AWS_ACCESS_KEY_ID": "sandbox",
                "AWS_SECRET_ACCESS_KEY": "sandbox",
                "AWS_DEFAULT_REGION": resources.REGION,
                "AWS_REGION": resources.REGION,
                "AWS_EC2_METADATA_DISABLED": "true",
                # Any service not emulated below goes to moto, so nothing ever leaves the machine.
                "AWS_ENDPOINT_URL": moto_url,
                "AWS_ENDPOINT_URL_CONNECT": connect_url,
                "AWS_ENDPOINT_URL_CONNECTPARTICIPANT": connect_url,
                "AWS_ENDPOINT_URL_REKOGNITION": connect_url,
                "GRAPH_API_URL": f"{graph_url}/v25.0",
                "PYTHONPATH": str(PROJECT_DIR),
                "PYTHONUNBUFFERED": "1",
            }
        )
        return env

    def _spawn(self, command: list[str], env: dict[str, str], label: str) -> subprocess.Popen:
        process = subprocess.Popen(
            command,
            cwd=PROJECT_DIR,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        self._processes.append(process)
        threading.Thread(target=self._forward, args=(process, label), daemon=True).start()
        return process

    def _forward(self, process: subprocess.Popen, label: str) -> None:
        assert process.stdout is not None  # _spawn starts every process with stdout=PIPE
        for line in process.stdout:
            try:
                self.options.log.write(f"[{label}] {line}")
                self.options.log.flush()
            except ValueError:  # log closed during shutdown
                return

    @staticmethod
    def _warm_up(site: SandboxSite) -> None:
        """The decryptor's cold start (ESDK import, key load from SSM) happens here, not on the first click."""
        site.warm_up_ivr()

    def _tick(self, model: ConnectModel) -> None:
        while not self._stopping.wait(1.0):
            model.tick()

    # ------------------------------------------------------------------------------------- stop

    def stop(self) -> None:
        self._stopping.set()
        if self.options.state_file is not None:
            self.options.state_file.unlink(missing_ok=True)
        for process in self._processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self._processes:
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        for server in self._servers:
            server.shutdown()
            server.server_close()
        local_clamd = getattr(self, "_clamd", None)
        if local_clamd is not None:
            local_clamd.stop()
        moto = getattr(self, "_moto", None)
        if moto is not None:
            moto.stop()
        self._ports.release_all()


def _die_with_parent() -> None:
    """Linux: the child gets SIGTERM if the runner dies without stopping it (e.g. SIGKILL)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _moto_client(service: str, url: str):
    import boto3

    return boto3.session.Session().client(
        service,
        endpoint_url=url,
        region_name=resources.REGION,
        aws_access_key_id="sandbox",
        aws_secret_access_key="sandbox",
    )


def _topic_exists(sns, arn: str) -> bool:
    try:
        sns.get_topic_attributes(TopicArn=arn)
    except Exception:
        return False
    return not arn.endswith(".fifo")


def _wait_http(url: str, process: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with status {process.returncode} (see its output above)")
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not answer within {START_TIMEOUT:.0f} s")


def ready_line(urls: dict[str, str]) -> str:
    return json.dumps({"sandbox_ready": urls})
