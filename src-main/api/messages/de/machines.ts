/**
 * German for the core's messages first met under src-main/core's machines, vm, agent, console, resources, schedule, fs, library, demo, host and tasks, core.ts and service.ts
 * (messages.test.ts says which area a message belongs to). Keys: the English id, word for word;
 * values: the German, with the same {n} placeholders, in whatever order German wants them.
 */
import type { Catalogue } from '../localise.js';

const de: Catalogue = {
  'The machine stopped while the request was in progress': 'Die Maschine wurde beendet, während die Anfrage lief',
  'The machine is not running': 'Die Maschine läuft nicht',
  'The VM agent did not answer "{0}" within {1} s': 'Der VM-Agent hat „{0}“ nicht innerhalb von {1} s beantwortet',
  '{0} has encrypted disks and its agent was given no passphrase':
    '{0} hat verschlüsselte Platten, aber dem Agenten wurde keine Passphrase übergeben',
  'QEMU (pid {0}) of {1} is no longer running': 'QEMU (pid {0}) von {1} läuft nicht mehr',
  'QEMU (pid {0}) still runs {1} but VMDesk cannot reach it ({2}); end it with `kill {3}`':
    'QEMU (pid {0}) führt {1} noch aus, aber VMDesk erreicht es nicht ({2}); mit `kill {3}` beenden',
  '{0} is not running': '{0} läuft nicht',
  'Bad agent request: not JSON': 'Ungültige Anfrage an den Agenten: kein JSON',
  'Bad agent request: {0}': 'Ungültige Anfrage an den Agenten: {0}',
  'Cannot {0} {1}: it is {2}': '„{0} {1}“ ist nicht möglich: Der Zustand ist {2}',
  '{0} did not shut down within {1} s: the guest may ignore the ACPI power button. Power it off instead (this may lose unsaved guest data).':
    '{0} wurde nicht innerhalb von {1} s heruntergefahren: Der Gast beachtet den ACPI-Netzschalter womöglich nicht. Stattdessen ausschalten (dabei können ungesicherte Daten im Gast verloren gehen).',
  '{0} is already being restored': '{0} wird bereits wiederhergestellt',
  '{0} was not unloaded by this client': '{0} wurde nicht von diesem Client entladen',
  'The new launch record is of another machine': 'Der neue Startdatensatz gehört zu einer anderen Maschine',
  'Cannot load the saved state: {0}': 'Der gesicherte Zustand kann nicht geladen werden: {0}',
  'ACPI shutdown requested': 'ACPI-Herunterfahren angefordert',
  'power off requested': 'Ausschalten angefordert',
  'shutdown: {0}': 'Herunterfahren: {0}',
  'shutting down': 'wird heruntergefahren',
  'The guest kernel panicked': 'Der Kernel des Gasts ist abgestürzt (Kernel-Panik)',
  'QEMU {0}': 'QEMU {0}',
  'The text to wait for must not be empty': 'Der Text, auf den gewartet wird, darf nicht leer sein',
  'The machine stopped before the text appeared': 'Die Maschine wurde beendet, bevor der Text erschien',
  '"{0}" did not appear within {1} s; the console\'s last line: {2}':
    '„{0}“ ist nicht innerhalb von {1} s erschienen; die letzte Zeile der Konsole: {2}',
  '"{0}" did not appear within {1} s; the console printed nothing':
    '„{0}“ ist nicht innerhalb von {1} s erschienen; die Konsole hat nichts ausgegeben',
  'No machine with uuid {0}': 'Keine Maschine mit der UUID {0}',
  '{0} is not running (it is {1})': '{0} läuft nicht (Zustand: {1})',
  '{0} has no display': '{0} hat keine Anzeige',
  'No machine named "{0}"': 'Keine Maschine namens „{0}“',
  'Create {0}': '{0} erstellen',
  '{0} is {1}: stop it before deleting it': '{0} ist im Zustand {1}: Vor dem Löschen stoppen',
  '{0} is already {1}{2}': '{0} ist bereits im Zustand {1}{2}',
  '{0} needs {1} MiB but this host has {2} MiB': '{0} braucht {1} MiB, dieser Host hat aber nur {2} MiB',
  'UEFI firmware (OVMF) is not installed: run `sudo apt-get install ovmf`':
    'Die UEFI-Firmware (OVMF) ist nicht installiert: `sudo apt-get install ovmf` ausführen',
  '{0} was deleted by another VMDesk process meanwhile': '{0} wurde inzwischen von einem anderen VMDesk-Prozess gelöscht',
  '{0} was moved by another VMDesk process meanwhile: try again':
    '{0} wurde inzwischen von einem anderen VMDesk-Prozess verschoben: Erneut versuchen',
  'Invalid key combination: {0}': 'Ungültige Tastenkombination: {0}',
  '{0} has no serial console': '{0} hat keine serielle Konsole',
  'The demo guest recipe ({0}) is missing from this installation': 'Das Rezept des Demo-Gasts ({0}) fehlt in dieser Installation',
  'The demo guest build finished but {0} is incomplete': 'Der Bau des Demo-Gasts ist abgeschlossen, aber {0} ist unvollständig',
  'Cannot run the demo guest recipe: {0}': 'Das Rezept des Demo-Gasts kann nicht ausgeführt werden: {0}',
  'Building the demo guest was cancelled': 'Der Bau des Demo-Gasts wurde abgebrochen',
  'The demo guest needs host tools that are missing:\n{0}': 'Dem Host fehlen Werkzeuge, die der Demo-Gast braucht:\n{0}',
  'Building the demo guest failed ({0}):\n{1}': 'Der Bau des Demo-Gasts ist fehlgeschlagen ({0}):\n{1}',
  '{0} is not built: run `npm run build`': '{0} ist nicht gebaut: `npm run build` ausführen',
  '{0} did not start; see {1}{2}': '{0} ist nicht gestartet; siehe {1}{2}',
  'The {0} {1} is not readable (permission denied)': 'Die Datei {0} {1} ist nicht lesbar (Zugriff verweigert)',
  'The {0} {1} is a loop of symbolic links': 'Die Datei {0} {1} ist eine Schleife symbolischer Links',
  'The {0} {1} does not exist': 'Die Datei {0} {1} existiert nicht',
  'The {0} {1} is {2}, not a regular file{3}: refused': '{0} {1} ist {2}, keine reguläre Datei{3}: abgelehnt',
  "The {0} {1} is a file of the kernel's {2}, not a regular file: refused":
    '{0} {1} ist eine Datei des Kernel-Dateisystems {2}, keine reguläre Datei: abgelehnt',
  '{0} is gone: another VMDesk process deleted or moved it':
    '{0} ist nicht mehr da: Ein anderer VMDesk-Prozess hat den Ordner gelöscht oder verschoben',
  'Busy: another VMDesk process (pid {0}) is {1}': 'Belegt: Ein anderer VMDesk-Prozess (pid {0}) ist beschäftigt ({1})',
  'No space left on device: cannot write the lock {0}. Free space on that filesystem, then try again.':
    'Kein Platz mehr auf dem Gerät: Die Sperrdatei {0} kann nicht geschrieben werden. Platz auf diesem Dateisystem freigeben, dann erneut versuchen.',
  'QEMU is not installed': 'QEMU ist nicht installiert',
  'QEMU is not installed: run `sudo apt-get install qemu-system-x86 qemu-utils`':
    'QEMU ist nicht installiert: `sudo apt-get install qemu-system-x86 qemu-utils` ausführen',
  '{0} does not exist (no hardware virtualization, or the kvm module is not loaded)':
    '{0} existiert nicht (keine Hardware-Virtualisierung, oder das Modul kvm ist nicht geladen)',
  'no permission to open {0} (add your user to the kvm group)':
    'keine Berechtigung, {0} zu öffnen (den eigenen Benutzer zur Gruppe kvm hinzufügen)',
  'cannot open {0}: {1}': '{0} kann nicht geöffnet werden: {1}',
  'No machine at {0} ({1} is missing)': 'Keine Maschine in {0} ({1} fehlt)',
  'The library file {0} is unreadable: {1}': 'Die Bibliotheksdatei {0} ist nicht lesbar: {1}',
  'A machine with uuid {0} is already registered': 'Eine Maschine mit der UUID {0} ist bereits registriert',
  '{0} MiB of memory is more than this host has ({1} MiB)': '{0} MiB Speicher sind mehr, als dieser Host hat ({1} MiB)',
  '{0} virtual CPUs on a host with {1} cores: the CPUs are oversubscribed and the guest will run slower':
    '{0} virtuelle CPUs auf einem Host mit {1} Kernen: Die CPUs sind überbucht, und der Gast läuft langsamer',
  '{0} MiB is more than the {1} MiB free right now': '{0} MiB sind mehr als die {1} MiB, die gerade frei sind',
  'Nothing to encrypt: give the machine a new disk or an imported one':
    'Nichts zu verschlüsseln: Der Maschine eine neue oder eine importierte Platte geben',
  'Preparing the demo guest': 'Demo-Gast wird vorbereitet',
  'Converting {0} to qcow2': '{0} wird in qcow2 umgewandelt',
  'Converting {0}': '{0} wird umgewandelt',
  Created: 'Erstellt',
  '{0} is not an ISO 9660 image (no CD001 signature)': '{0} ist kein ISO-9660-Abbild (keine CD001-Signatur)',
  'Each vCPU may be pinned only once': 'Jede vCPU darf nur einmal gebunden werden',
  'The balloon device and page sharing change at the next start': 'Speicherballon-Gerät und Seitenteilung ändern sich beim nächsten Start',
  'A boot device may appear only once': 'Ein Bootgerät darf nur einmal vorkommen',
  'Stop {0} before changing its firmware': '{0} vor dem Ändern der Firmware stoppen',
  '{0} boots {1}, an uncompressed (ELF) kernel, which UEFI firmware cannot boot directly: keep BIOS, or give it a bzImage kernel':
    '{0} bootet {1}, einen unkomprimierten Kernel (ELF), den UEFI-Firmware nicht direkt booten kann: BIOS beibehalten oder einen bzImage-Kernel angeben',
  'Stop {0} before renaming it': '{0} vor dem Umbenennen stoppen',
  'The folder {0} already exists': 'Der Ordner {0} existiert bereits',
  '{0} is not broken: there is nothing to repair': '{0} ist nicht beschädigt: Es gibt nichts zu reparieren',
  '{0} has no backup': '{0} hat keine Sicherungskopie',
  'The backup of {0} names another machine': 'Die Sicherungskopie von {0} nennt eine andere Maschine',
  '{0} has no balloon device: switch it on (vmdesk modify {1} --balloon on) and restart the machine':
    '{0} hat kein Speicherballon-Gerät: Es einschalten (vmdesk modify {1} --balloon on) und die Maschine neu starten',
  '{0} MiB is below the minimum memory of {1} ({2} MiB): lower the minimum first (vmdesk modify {3} --memory-min MiB)':
    '{0} MiB liegen unter dem Mindestspeicher von {1} ({2} MiB): Zuerst das Minimum senken (vmdesk modify {3} --memory-min MiB)',
  '{0} MiB is above the memory of {1} ({2} MiB): the balloon can only give back what it took':
    '{0} MiB liegen über dem Speicher von {1} ({2} MiB): Der Ballon kann nur zurückgeben, was er genommen hat',
  'no cgroup file system is mounted (see /proc/self/mountinfo): mount cgroup2 on /sys/fs/cgroup':
    'kein cgroup-Dateisystem ist eingehängt (siehe /proc/self/mountinfo): cgroup2 unter /sys/fs/cgroup einhängen',
  'the cgroup v2 hierarchy at {0} has no cpu controller and no cgroup v1 hierarchy has one: the cpu controller is bound elsewhere or disabled (cgroup_disable=cpu on the kernel command line?)':
    'die cgroup-v2-Hierarchie unter {0} hat keinen cpu-Controller, und keine cgroup-v1-Hierarchie hat einen: Der cpu-Controller ist anderswo gebunden oder abgeschaltet (cgroup_disable=cpu in der Kernel-Kommandozeile?)',
  'no mounted cgroup v1 hierarchy has the cpu controller: mount one (mount -t cgroup -o cpu cgroup /sys/fs/cgroup/cpu)':
    'keine eingehängte cgroup-v1-Hierarchie hat den cpu-Controller: Eine einhängen (mount -t cgroup -o cpu cgroup /sys/fs/cgroup/cpu)',
  'VMDESK_CGROUP_PARENT={0} {1}: point it to a cgroup folder this user may write, or unset it':
    'VMDESK_CGROUP_PARENT={0} {1}: Die Variable auf einen cgroup-Ordner setzen, in den dieser Benutzer schreiben darf, oder sie entfernen',
  'the cgroup v1 cpu hierarchy at {0} is not writable by this user (uid {1}): run VMDesk as root, or give it a folder (sudo mkdir {2} && sudo chown -R {3} {4}) and set VMDESK_CGROUP_PARENT={5}':
    'die cpu-Hierarchie von cgroup v1 unter {0} ist für diesen Benutzer (uid {1}) nicht beschreibbar: VMDesk als root ausführen, oder ihm einen Ordner geben (sudo mkdir {2} && sudo chown -R {3} {4}) und VMDESK_CGROUP_PARENT={5} setzen',
  'the cgroup v2 hierarchy at {0} is read-only here': 'die cgroup-v2-Hierarchie unter {0} ist hier schreibgeschützt',
  "this process's cgroup is not visible under {0}": 'die cgroup dieses Prozesses ist unter {0} nicht sichtbar',
  "this process's cgroup ({0}) is in no subtree delegated to this user (uid {1}): run VMDesk inside your systemd user session (e.g. systemd-run --user --scope vmdesk ...), or {2}":
    'die cgroup dieses Prozesses ({0}) liegt in keinem Teilbaum, der an diesen Benutzer (uid {1}) delegiert ist: VMDesk in der eigenen systemd-Benutzersitzung ausführen (z. B. systemd-run --user --scope vmdesk ...), oder {2}',
  'the cgroup v2 subtree delegated to this user ({0}) has no cpu controller: {1}':
    'der an diesen Benutzer delegierte cgroup-v2-Teilbaum ({0}) hat keinen cpu-Controller: {1}',
  'the delegated cgroup {0} is not writable by this user': 'die delegierte cgroup {0} ist für diesen Benutzer nicht beschreibbar',
  "Cannot read the host's CPUs (/sys/devices/system/cpu/online): {0}":
    'Die CPUs des Hosts können nicht gelesen werden (/sys/devices/system/cpu/online): {0}',
  'QEMU did not list its vCPUs (query-cpus-fast)': 'QEMU hat seine vCPUs nicht aufgelistet (query-cpus-fast)',
  'QEMU listed a vCPU without its index or thread id (query-cpus-fast)':
    'QEMU hat eine vCPU ohne Index oder Thread-ID aufgelistet (query-cpus-fast)',
  "QEMU's thread {0} is gone (did the machine stop?)": 'Der QEMU-Thread {0} existiert nicht mehr (wurde die Maschine beendet?)',
  'The kernel does not say where thread {0} may run': 'Der Kernel gibt nicht an, wo Thread {0} laufen darf',
  'Refusing an affinity of [{0}] for thread {1}': 'Eine Affinität von [{0}] für Thread {1} wird abgelehnt',
  'Cannot pin thread {0} to host CPU {1}: {2}': 'Thread {0} kann nicht an Host-CPU {1} gebunden werden: {2}',
  'vCPUs {0} and {1} run on one QEMU thread (single-threaded TCG): pin them to the same host CPU':
    'Die vCPUs {0} und {1} laufen in einem QEMU-Thread (TCG mit nur einem Thread): Beide an dieselbe Host-CPU binden',
  '{0} has a CPU cap or CPU shares, which need cgroups, unavailable here: {1}. Remove them (vmdesk modify {2} --cpu-cap off --cpu-shares {3}) or make cgroups usable':
    '{0} hat eine CPU-Grenze oder CPU-Anteile; diese brauchen cgroups, die hier nicht verfügbar sind: {1}. Grenze und Anteile entfernen (vmdesk modify {2} --cpu-cap off --cpu-shares {3}) oder cgroups nutzbar machen',
  'A CPU cap or CPU shares need cgroups, which are unavailable here: {0}':
    'Eine CPU-Grenze oder CPU-Anteile brauchen cgroups, die hier nicht verfügbar sind: {0}',
  "{0}'s QEMU is not known yet (it is {1}): try again in a moment":
    'Das QEMU von {0} ist noch nicht bekannt (Zustand: {1}): Gleich noch einmal versuchen',
  "{0} (the host's KSM settings from before VMDesk) is damaged: set KSM by hand under {1}, then remove that file":
    '{0} (die KSM-Einstellungen des Hosts von vor VMDesk) ist beschädigt: KSM von Hand unter {1} einstellen, dann diese Datei entfernen',
  "Could not set KSM's {0} to {1} ({2}); what was already changed is back as it was":
    'Die KSM-Einstellung {0} konnte nicht auf {1} gesetzt werden ({2}); was schon geändert war, ist wieder wie zuvor',
  "Could not set KSM's {0} to {1} ({2}); and could not put back {3}: set {4} under {5} by hand":
    'Die KSM-Einstellung {0} konnte nicht auf {1} gesetzt werden ({2}), und {3} konnte nicht zurückgesetzt werden: {4} von Hand unter {5} setzen',
  'A scan rate (pages to scan, sleep) goes with turning page sharing on, not off':
    'Eine Prüfrate (zu prüfende Seiten, Pause) gehört zum Einschalten der Seitenteilung, nicht zum Ausschalten',
  'This kernel has no KSM ({0} is missing): page sharing is unavailable':
    'Dieser Kernel hat kein KSM ({0} fehlt): Seitenteilung ist nicht verfügbar',
  'Changing KSM needs root (nothing was changed): run `{0}`': 'Um KSM zu ändern, braucht es root (nichts wurde geändert): `{0}` ausführen',
  "KSM's settings under {0} are not what VMDesk knows: nothing was changed":
    'Die KSM-Einstellungen unter {0} sind nicht die, die VMDesk kennt: Nichts wurde geändert',
  "{0}'s agent is gone: run `{1}` to give it a new one, then change {2} again":
    'Der Agent von {0} ist nicht mehr da: `{1}` ausführen, um einen neuen zu starten, dann {2} erneut ändern',
  '{0} is not reachable: its agent does not answer': '{0} ist nicht erreichbar: Ihr Agent antwortet nicht',
  'The host memory policy (pid {0}) did not end within {1} s; see {2}':
    'Die Speicherrichtlinie des Hosts (pid {0}) hat sich nicht innerhalb von {1} s beendet; siehe {2}',
  '{0} is not valid memory policy settings: set them again with `vmdesk memory-policy on|off`':
    '{0} enthält keine gültigen Einstellungen der Speicherrichtlinie: Die Einstellungen mit `vmdesk memory-policy on|off` neu setzen',
  '{0} is not a valid schedule: set it again with `vmdesk schedule`':
    '{0} ist kein gültiger Zeitplan: Den Zeitplan mit `vmdesk schedule` neu setzen',
  'A cron expression has 5 fields (minute hour day month weekday), not {0}: "{1}"':
    'Ein Cron-Ausdruck hat 5 Felder (Minute Stunde Tag Monat Wochentag), nicht {0}: „{1}“',
  'Invalid cron expression "{0}": {1}': 'Ungültiger Cron-Ausdruck „{0}“: {1}',
  'The cron expression "{0}" never fires': 'Der Cron-Ausdruck „{0}“ trifft nie zu',
  'The host of a request must be the name of a host': 'Der Host einer Anfrage muss der Name eines Hosts sein',
  '{0} is answered by this computer: send it without a host': '{0} beantwortet dieser Computer selbst: Ohne Host senden',
  'A scheduled run belongs to the snapshot scheduler: turn the schedule off to stop its runs':
    'Ein geplanter Lauf gehört zum Planer der Sicherungspunkte: Den Zeitplan ausschalten, um seine Läufe zu beenden',
  'No task {0}': 'Keine Aufgabe {0}',
  '{0}: cancelled': '{0}: abgebrochen',
  'QEMU failed to start: {0}{1}': 'QEMU konnte nicht starten: {0}{1}',
  'The VM agent is not built: run `npm run build`': 'Der VM-Agent ist nicht gebaut: `npm run build` ausführen',
  'QEMU and its agent are gone without a clean shutdown': 'QEMU und sein Agent sind ohne sauberes Herunterfahren verschwunden',
  '{0} still runs in QEMU (pid {1}), which VMDesk has lost track of: end it with `kill {2}` before starting it again':
    '{0} läuft noch in QEMU (pid {1}), das VMDesk aus den Augen verloren hat: Vor dem erneuten Start mit `kill {2}` beenden',
  'The VM agent did not start; see {0}': 'Der VM-Agent ist nicht gestartet; siehe {0}',
  'QEMU failed to start{0}': 'QEMU konnte nicht starten{0}',
};

export default de;
