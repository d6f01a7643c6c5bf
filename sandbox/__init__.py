"""The sandbox: the whole product on one machine, no AWS account, no Facebook page. Never deployed.

`python -m sandbox` (what `make run` starts) runs, all bound to 127.0.0.1:
moto (DynamoDB, Secrets Manager, SSM, S3, SNS), an Amazon Connect chat emulator, a Graph Send API
emulator, a Lambda host for the non-HTTP entry points, `chalice local` serving the real app, and a
front server that serves the sandbox page at /sandbox/ and proxies everything else to the app.
"""
