"""dnsops import: bring zones a provider already serves into the repository.

1. **read** -- each zone from one provider, or from both of the environment, through
   octoDNS's own ``populate`` (lenient: a provider may hold what octoDNS would refuse
   in a zone file), and what that populate passed over (:func:`dnsops.octo.unread`);
2. **keep** -- the records that load again strictly, as ``dnsops validate`` loads the
   zone file; every record left out is listed with why (:func:`core.strict`), never
   dropped silently;
3. **write** -- the environment's YamlProvider writes the file itself, as the target of
   a plan from nothing to the imported zone (:func:`dnsops.octo.write_zone`), so the
   file has the repository's format (key order, default TTL, semicolons);
4. **compare** -- reading both providers, their zones record by record as octoDNS
   compares them (the config's processors applied; :func:`core.differences`): the
   first audit of an existing dual-provider setup.

:mod:`core` is pure (octoDNS zones in, models out); :mod:`run` does the I/O.
"""
