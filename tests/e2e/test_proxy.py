"""The forwarder the reliability tests put between the services and the shared servers: a
Kafka client and a PostgreSQL pool work through it, fail while it is cut, and work again
once it is restored, without touching the shared servers."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from shared.settings import KafkaSettings
from shared.topics import WINDOWS
from tests.e2e.proxy import Proxy

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.timeout(90)]


async def test_kafka_goes_through_the_forwarder_and_stops_while_cut(
    kafka_settings: KafkaSettings,
) -> None:
    proxy = Proxy.to(kafka_settings.bootstrap, kafka=True)
    await proxy.open()
    producer = AIOKafkaProducer(bootstrap_servers=proxy.address, request_timeout_ms=3000)
    try:
        await producer.start()
        topic = kafka_settings.topic(WINDOWS.name)
        await producer.send_and_wait(topic, b"before")
        # every broker the client knows is the forwarder: advertised addresses were rewritten
        brokers = {(b.host, b.port) for b in producer.client.cluster.brokers()}
        assert brokers == {("127.0.0.1", proxy.port)}
        await proxy.cut()
        with pytest.raises((KafkaError, TimeoutError)):
            async with asyncio.timeout(6):
                await producer.send_and_wait(topic, b"while cut")
        await proxy.open()
        async with asyncio.timeout(30):
            await producer.send_and_wait(topic, b"after")
    finally:
        await producer.stop()
        await proxy.close()


async def test_postgres_goes_through_the_forwarder_and_stops_while_cut(
    fresh_database: str,
) -> None:
    host_port = fresh_database.split("@", 1)[1].split("/", 1)[0]
    proxy = Proxy.to(host_port)
    await proxy.open()
    through = fresh_database.replace(host_port, proxy.address)
    pool = await asyncpg.create_pool(through, min_size=1, max_size=2)
    try:
        assert await pool.fetchval("SELECT 1") == 1
        await proxy.cut()
        with pytest.raises((OSError, asyncpg.PostgresError, asyncpg.InterfaceError)):
            await pool.fetchval("SELECT 1", timeout=3)
        await proxy.open()
        assert await pool.fetchval("SELECT 1") == 1
    finally:
        await pool.close()
        await proxy.close()
