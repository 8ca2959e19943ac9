"""dnsops audit: prove both providers hold and serve the same, correct zones.

Three views of every zone, side by side:

1. **source** -- the zones in git, loaded through octoDNS (:func:`dnsops.zones.load_zones`);
2. **api** (control plane) -- what each provider's API holds: octoDNS's own ``populate``
   of the target, exactly what ``octodns-sync`` compares against;
3. **served** (data plane) -- what each of the provider's nameservers answers: a zone
   transfer with the provider's own credentials where the provider allows one (BIND with
   TSIG), per-record queries through the probe engine otherwise (PowerDNS with
   ``disable-axfr``, Route 53, NS1).

source is compared with each provider's api (``missing``, ``extra``, ``values-differ``,
``ttl-differs``, ``unsupported-by-one-provider``), and each api with what every one of that
provider's nameservers serves (``served-differs-from-api``). A view that cannot be read
at all is reported as ``view-unavailable``: an audit that could not look proves nothing.

What is compared -- the rule, taken from octoDNS itself rather than from a list of
exceptions (see :func:`dnsops.audit.core.managed`):

* only record types octoDNS can hold *for that provider*, i.e. the provider class's
  ``SUPPORTS``. This is how octoDNS itself ignores SOA (and RRSIG, NSEC, DNSKEY,
  PowerDNS/BIND internals such as TYPE65534): there is no octoDNS record type for them and
  every provider's ``populate`` drops what is not in ``SUPPORTS``. A *source* record of a
  type the provider cannot hold is not skipped silently: it is
  ``unsupported-by-one-provider``, the zone is not really dual for it;
* the apex NS only where the provider declares ``SUPPORTS_ROOT_NS`` and the source has an
  apex NS: otherwise the provider owns its apex NS entries and octoDNS leaves them alone
  (``BaseProvider._process_desired_zone`` / ``_process_existing_zone``);
* not the records octoDNS skips for that provider: ``octodns: {ignored: true}``, a provider
  in ``excluded`` or missing from ``included`` (``Zone.changes``), and what the zone's
  processors in the octoDNS config remove (e.g. ``IgnoreRootNsFilter``);
* on the data plane, only types that exist on the wire: octoDNS-only types (ALIAS, URLFWD)
  are compared on the control plane only. Per-record queries can only see the names they
  ask for, so an extra record served but held by no API is found by a zone transfer only.
"""
